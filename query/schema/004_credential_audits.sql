-- Schema version 4: live root-credential audits (`rootaudit verify`).
-- Every TIMESTAMP column holds UTC. See docs/schema.md and docs/verify.md.

-- One row per `rootaudit verify` run.
CREATE TABLE audit_runs (
    audit_run_id       BIGINT PRIMARY KEY,
    started_at         TIMESTAMP NOT NULL,
    finished_at        TIMESTAMP,
    rootaudit_version  VARCHAR,
    command            VARCHAR,
    region             VARCHAR,   -- the STS region AssumeRoot was called in
    management_account VARCHAR,   -- skipped: AssumeRoot cannot target it
    account_source     VARCHAR,   -- 'organizations' (ListAccounts) or the --accounts file
    accounts           BIGINT,    -- member accounts to audit
    audited            BIGINT,    -- rows in credential_audits for this run
    present            BIGINT,    -- of which root-credentials-present
    unknown            BIGINT,    -- of which unknown
    status             VARCHAR NOT NULL -- running (or killed), ok, interrupted, failed
);

-- One row per member account audited in a run: what the
-- IAMAuditRootUserCredentials session read. A NULL list or password_present
-- means the read was not made or failed (see error); an empty list means
-- the read answered "none".
CREATE TABLE credential_audits (
    audit_run_id         BIGINT NOT NULL,
    account_id           VARCHAR NOT NULL,
    account_name         VARCHAR,
    checked_at           TIMESTAMP NOT NULL, -- when AssumeRoot was called
    assume_status        VARCHAR NOT NULL,   -- 'ok' or the AssumeRoot error code
    session_key_id       VARCHAR,            -- the AssumeRoot access key ID (ASIA…)
    session_expires      TIMESTAMP,
    password_present     BOOLEAN,
    password_created_at  TIMESTAMP,
    access_keys          STRUCT(access_key_id VARCHAR, status VARCHAR, created_at TIMESTAMP)[],
    mfa_devices          STRUCT(serial_number VARCHAR, enabled_at TIMESTAMP)[],
    signing_certificates STRUCT(certificate_id VARCHAR, status VARCHAR, uploaded_at TIMESTAMP)[],
    state                VARCHAR NOT NULL,   -- no-root-credentials, root-credentials-present, unknown
    present              VARCHAR[] NOT NULL, -- password, access-key, mfa-device, signing-certificate
    error                VARCHAR,
    PRIMARY KEY (audit_run_id, account_id)
);
