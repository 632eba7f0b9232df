-- Schema version 1 of the rootaudit database.
-- Every TIMESTAMP column holds UTC. See docs/schema.md for the contract.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

-- One row per kept CloudTrail record (root principal, AssumeRoot call, or
-- organization-level switch), deduplicated on event_id.
CREATE TABLE events (
    event_id             VARCHAR PRIMARY KEY,
    event_time           TIMESTAMP NOT NULL,
    event_version        VARCHAR,
    event_source         VARCHAR,
    event_name           VARCHAR,
    event_type           VARCHAR,
    aws_region           VARCHAR,
    recipient_account_id VARCHAR,
    identity_type        VARCHAR,
    identity_arn         VARCHAR,
    identity_account_id  VARCHAR,
    principal_id         VARCHAR,
    user_name            VARCHAR,
    access_key_id        VARCHAR,
    invoked_by           VARCHAR,
    session_issuer_arn   VARCHAR,
    session_created      TIMESTAMP,
    mfa_authenticated    BOOLEAN,
    console_session      BOOLEAN,
    source_ip            VARCHAR,
    user_agent           VARCHAR,
    error_code           VARCHAR,
    error_message        VARCHAR,
    request_id           VARCHAR,
    read_only            BOOLEAN,
    login_result         VARCHAR,
    mfa_used             BOOLEAN,
    target_principal     VARCHAR,
    target_account       VARCHAR,
    task_policy_arn      VARCHAR,
    duration_seconds     INTEGER,
    issued_key_id        VARCHAR,
    expiration_raw       VARCHAR,
    expiration           TIMESTAMP,
    service_principal    VARCHAR,
    source_kind          VARCHAR NOT NULL,
    source_file          VARCHAR NOT NULL,
    raw                  JSON NOT NULL
);

-- One row per file read (or counted and skipped): the checkpoint that makes
-- reruns incremental. A file's row and its events commit together.
CREATE TABLE ingested_files (
    source             VARCHAR PRIMARY KEY,
    kind               VARCHAR NOT NULL,
    org_id             VARCHAR,
    account_id         VARCHAR,
    region             VARCHAR,
    delivery_day       DATE,
    size               BIGINT,
    etag               VARCHAR,
    uncompressed_bytes BIGINT,
    sha256             VARCHAR,
    records            BIGINT,
    candidates         BIGINT,
    kept               BIGINT,
    status             VARCHAR NOT NULL,
    reason             VARCHAR,
    run_id             BIGINT,
    ingested_at        TIMESTAMP NOT NULL
);

-- One row per ingest run: provenance for evidence.
CREATE TABLE runs (
    run_id            BIGINT PRIMARY KEY,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    rootaudit_version VARCHAR,
    command           VARCHAR,
    sources           VARCHAR,
    window_since      TIMESTAMP,
    window_until      TIMESTAMP,
    files_listed      BIGINT,
    files_read        BIGINT,
    files_failed      BIGINT,
    records           BIGINT,
    kept              BIGINT,
    status            VARCHAR
);

-- The five AssumeRoot task policies and the CloudTrail event names each
-- allows (REFERENCE.md §4.3). The one catalogue every query uses.
CREATE TABLE task_policies (
    task_policy  VARCHAR NOT NULL,
    event_source VARCHAR NOT NULL,
    event_name   VARCHAR NOT NULL,
    PRIMARY KEY (task_policy, event_name)
);
INSERT INTO task_policies VALUES
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'ListAccessKeys'),
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'ListSigningCertificates'),
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'GetLoginProfile'),
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'ListMFADevices'),
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'GetAccountSummary'),
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'GetUser'),
    ('IAMAuditRootUserCredentials', 'iam.amazonaws.com', 'GetAccessKeyLastUsed'),
    ('IAMCreateRootUserPassword',   'iam.amazonaws.com', 'CreateLoginProfile'),
    ('IAMCreateRootUserPassword',   'iam.amazonaws.com', 'GetLoginProfile'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'DeleteAccessKey'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'DeleteSigningCertificate'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'DeleteLoginProfile'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'DeactivateMFADevice'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'DeleteVirtualMFADevice'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'ListAccessKeys'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'ListSigningCertificates'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'GetLoginProfile'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'ListMFADevices'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'GetUser'),
    ('IAMDeleteRootUserCredentials','iam.amazonaws.com', 'GetAccessKeyLastUsed'),
    ('S3UnlockBucketPolicy',        's3.amazonaws.com',  'DeleteBucketPolicy'),
    ('S3UnlockBucketPolicy',        's3.amazonaws.com',  'PutBucketPolicy'),
    ('S3UnlockBucketPolicy',        's3.amazonaws.com',  'GetBucketPolicy'),
    ('S3UnlockBucketPolicy',        's3.amazonaws.com',  'ListBuckets'),
    ('SQSUnlockQueuePolicy',        'sqs.amazonaws.com', 'SetQueueAttributes'),
    ('SQSUnlockQueuePolicy',        'sqs.amazonaws.com', 'GetQueueAttributes'),
    ('SQSUnlockQueuePolicy',        'sqs.amazonaws.com', 'ListQueues'),
    ('SQSUnlockQueuePolicy',        'sqs.amazonaws.com', 'GetQueueUrl');

-- Every AssumeRoot call, one row each (REFERENCE.md §4.1).
CREATE VIEW assume_root_calls AS
SELECT
    event_id,
    identity_arn                                            AS issuer_arn,
    coalesce(identity_account_id, recipient_account_id)     AS issuer_account,
    target_account,
    regexp_extract(task_policy_arn, 'root-task/(.+)$', 1)   AS task_policy,
    coalesce(duration_seconds, 900)                         AS duration_seconds,
    event_time                                              AS issued_at,
    coalesce(expiration, event_time + to_seconds(coalesce(duration_seconds, 900))) AS expires_at,
    issued_key_id                                           AS access_key_id,
    CASE WHEN error_code IS NULL AND issued_key_id IS NOT NULL THEN 'issued'
         ELSE coalesce(error_code, 'no-credentials') END     AS status,
    aws_region,
    source_ip,
    user_agent,
    source_file
FROM events
WHERE event_source = 'sts.amazonaws.com' AND event_name = 'AssumeRoot';

-- Every root-principal event with its class (REFERENCE.md §5; first match
-- wins). human is true for classes sign-in, long-term-key and console.
CREATE VIEW root_activity AS
WITH keys AS (
    SELECT DISTINCT access_key_id, target_account
    FROM assume_root_calls
    WHERE status = 'issued'
)
SELECT
    e.*,
    CASE
        WHEN e.event_type = 'AwsServiceEvent' THEN 'service-event'
        WHEN k.access_key_id IS NOT NULL THEN 'privileged-session'
        WHEN e.event_source = 'signin.amazonaws.com' THEN 'sign-in'
        WHEN coalesce(e.invoked_by, '') NOT IN ('', 'signin.amazonaws.com', 'AWS Internal') THEN 'service-on-behalf'
        WHEN e.access_key_id LIKE 'AKIA%' THEN 'long-term-key'
        ELSE 'console'
    END AS class,
    CASE
        WHEN e.event_type = 'AwsServiceEvent' THEN 1
        WHEN k.access_key_id IS NOT NULL THEN 2
        WHEN e.event_source = 'signin.amazonaws.com' THEN 3
        WHEN coalesce(e.invoked_by, '') NOT IN ('', 'signin.amazonaws.com', 'AWS Internal') THEN 4
        WHEN e.access_key_id LIKE 'AKIA%' THEN 5
        ELSE 6
    END AS class_no
FROM events e
LEFT JOIN keys k
    ON k.access_key_id = e.access_key_id
   AND k.target_account = e.recipient_account_id
WHERE e.identity_type = 'Root';

-- Human root use only: classes sign-in, long-term-key, console.
CREATE VIEW human_root_activity AS
SELECT * FROM root_activity WHERE class_no IN (3, 5, 6);

-- The organization-level switches of REFERENCE.md §4.4.
CREATE VIEW org_switches AS
SELECT event_id, event_time, event_source, event_name, recipient_account_id AS account_id,
       identity_arn, error_code,
       CASE WHEN event_name LIKE 'Disable%' THEN 'disable' ELSE 'enable' END AS action
FROM events
WHERE identity_type IS DISTINCT FROM 'Root'
  AND event_name IN ('EnableOrganizationsRootCredentialsManagement', 'EnableOrganizationsRootSessions',
                     'DisableOrganizationsRootCredentialsManagement', 'DisableOrganizationsRootSessions',
                     'EnableAWSServiceAccess', 'DisableAWSServiceAccess');
