-- Moves one batch's staged events into the events table, inside the batch's
-- transaction (Loader.Commit). Duplicate event_ids keep the copy from the lexically
-- smallest source file, so the result is independent of read order.
INSERT INTO events
SELECT * REPLACE (CAST(raw AS JSON) AS raw) FROM stage_events
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY source_file) = 1
ON CONFLICT (event_id) DO UPDATE SET
    event_time = excluded.event_time, event_version = excluded.event_version,
    event_source = excluded.event_source, event_name = excluded.event_name,
    event_type = excluded.event_type, aws_region = excluded.aws_region,
    recipient_account_id = excluded.recipient_account_id, identity_type = excluded.identity_type,
    identity_arn = excluded.identity_arn, identity_account_id = excluded.identity_account_id,
    principal_id = excluded.principal_id, user_name = excluded.user_name,
    access_key_id = excluded.access_key_id, invoked_by = excluded.invoked_by,
    session_issuer_arn = excluded.session_issuer_arn, session_created = excluded.session_created,
    mfa_authenticated = excluded.mfa_authenticated, console_session = excluded.console_session,
    source_ip = excluded.source_ip, user_agent = excluded.user_agent,
    error_code = excluded.error_code, error_message = excluded.error_message,
    request_id = excluded.request_id, read_only = excluded.read_only,
    login_result = excluded.login_result, mfa_used = excluded.mfa_used,
    target_principal = excluded.target_principal, target_account = excluded.target_account,
    task_policy_arn = excluded.task_policy_arn, duration_seconds = excluded.duration_seconds,
    issued_key_id = excluded.issued_key_id, expiration_raw = excluded.expiration_raw,
    expiration = excluded.expiration, service_principal = excluded.service_principal,
    source_kind = excluded.source_kind, source_file = excluded.source_file, raw = excluded.raw
WHERE excluded.source_file < events.source_file;

-- The files' checkpoint rows and the digests' rows were appended straight
-- into their tables in the same transaction (Loader.begin); rows of a file
-- read again were deleted just before (Loader.replace).
