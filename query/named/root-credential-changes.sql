-- name: root-credential-changes
-- description: Changes to root credentials (password, MFA devices, access keys, signing certificates) and password recoveries, newest first.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- Made by the root user itself (human root: class sign-in, console or
-- long-term-key) or in a privileged session (class privileged-session, with
-- the session's task policy and issuer). Failed attempts are listed with
-- their error code. For the removal state per account use `rootaudit status`.
WITH sessions AS (
    SELECT access_key_id, target_account, any_value(task_policy) AS task_policy, any_value(issuer_arn) AS issuer_arn
    FROM assume_root_calls
    WHERE status = 'issued'
    GROUP BY ALL
)
SELECT
    r.event_time,
    r.recipient_account_id AS account_id,
    r.event_name,
    CASE
        WHEN r.event_name IN ('CreateLoginProfile', 'UpdateLoginProfile', 'DeleteLoginProfile', 'ChangePassword',
                              'PasswordRecoveryRequested', 'PasswordRecoveryCompleted') THEN 'password'
        WHEN r.event_name LIKE '%MFADevice' THEN 'mfa'
        WHEN r.event_name LIKE '%AccessKey' THEN 'access-key'
        ELSE 'signing-certificate'
    END AS credential,
    r.class,
    s.task_policy,
    s.issuer_arn AS session_issuer,
    r.error_code,
    r.source_ip,
    r.user_agent,
    r.event_id
FROM root_activity r
LEFT JOIN sessions s ON r.class = 'privileged-session' AND s.access_key_id = r.access_key_id AND s.target_account = r.recipient_account_id
WHERE r.event_name IN (
        'CreateLoginProfile', 'UpdateLoginProfile', 'DeleteLoginProfile', 'ChangePassword',
        'PasswordRecoveryRequested', 'PasswordRecoveryCompleted',
        'CreateVirtualMFADevice', 'EnableMFADevice', 'ResyncMFADevice', 'DeactivateMFADevice', 'DeleteVirtualMFADevice',
        'CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey',
        'UploadSigningCertificate', 'UpdateSigningCertificate', 'DeleteSigningCertificate')
  AND r.class <> 'service-event'
  AND r.event_time >= CAST($since AS TIMESTAMP)
  AND r.event_time < CAST($until AS TIMESTAMP)
  AND ($account = '' OR r.recipient_account_id = $account)
ORDER BY r.event_time DESC, r.event_id;
