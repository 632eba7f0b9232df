-- Schema version 2: the privileged-session model (issue 4).

-- Error codes that mean the call was refused for lack of permission. A
-- NoSuchEntity answer is an allowed call that found nothing, not a denial.
CREATE TABLE denial_codes (error_code VARCHAR PRIMARY KEY);
INSERT INTO denial_codes VALUES
    ('AccessDenied'), ('AccessDeniedException'), ('UnauthorizedOperation'),
    ('Client.UnauthorizedOperation'), ('UnauthorizedAccess'), ('AuthorizationError');

-- Member-account actions of every successful AssumeRoot session, linked by
-- access key ID and target account (REFERENCE.md §4.2). Actions outside the
-- issue–expiry window stay linked and are flagged (after_expiry), with
-- 5 seconds of clock skew allowed either side.
CREATE VIEW session_actions AS
SELECT
    s.event_id                         AS session_event_id,
    s.access_key_id,
    s.target_account,
    s.task_policy,
    s.issued_at,
    s.expires_at,
    e.event_id,
    e.event_time,
    e.event_source,
    e.event_name,
    e.aws_region,
    e.error_code,
    e.source_file,
    tp.event_name IS NOT NULL          AS allowed,
    dc.error_code IS NOT NULL          AS denied,
    e.event_time > s.expires_at + INTERVAL 5 SECOND AS after_expiry,
    e.event_time < s.issued_at - INTERVAL 5 SECOND  AS before_issue
FROM assume_root_calls s
JOIN events e
    ON e.identity_type = 'Root'
   AND e.access_key_id = s.access_key_id
   AND e.recipient_account_id = s.target_account
LEFT JOIN task_policies tp
    ON tp.task_policy = s.task_policy
   AND tp.event_source = e.event_source
   AND tp.event_name = e.event_name
LEFT JOIN denial_codes dc ON dc.error_code = e.error_code
WHERE s.status = 'issued';

-- Root-credential changes per account: removals and re-creations done in
-- sessions, re-creations by human root (task_policy NULL), and the four
-- credential reads of IAMAuditRootUserCredentials sessions that prove the
-- current state (kind audited; REFERENCE.md §4.4).
CREATE VIEW credential_events AS
SELECT target_account AS account_id, event_time, event_name, task_policy, 'removed' AS kind, event_id, session_event_id
FROM session_actions
WHERE task_policy = 'IAMDeleteRootUserCredentials' AND error_code IS NULL
  AND event_name IN ('DeleteLoginProfile', 'DeleteAccessKey', 'DeactivateMFADevice', 'DeleteVirtualMFADevice', 'DeleteSigningCertificate')
UNION ALL
SELECT target_account, event_time, event_name, task_policy, 're-created', event_id, session_event_id
FROM session_actions
WHERE task_policy = 'IAMCreateRootUserPassword' AND error_code IS NULL AND event_name = 'CreateLoginProfile'
UNION ALL
SELECT recipient_account_id, event_time, event_name, NULL, 're-created', event_id, NULL
FROM root_activity
WHERE class_no IN (3, 5, 6) AND error_code IS NULL
  AND event_name = 'CreateAccessKey'
UNION ALL
SELECT target_account, event_time, event_name, task_policy, 'audited', event_id, session_event_id
FROM session_actions
WHERE task_policy = 'IAMAuditRootUserCredentials' AND NOT denied
  AND event_name IN ('GetLoginProfile', 'ListAccessKeys', 'ListMFADevices', 'ListSigningCertificates');
