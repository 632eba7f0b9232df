-- name: denied-actions
-- description: Root actions refused for lack of permission (error code in denial_codes), and refused AssumeRoot calls, newest first.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- kind is the root_activity class of the refused call (console,
-- long-term-key, privileged-session, …) or assume-root for an
-- sts:AssumeRoot call that was refused; for those, account_id is the
-- target account and principal_arn the issuer. Errors that are not denials
-- (NoSuchEntity…, throttling) are not listed.
SELECT * FROM (
    SELECT
        r.event_time,
        r.recipient_account_id AS account_id,
        r.class AS kind,
        r.identity_arn AS principal_arn,
        r.event_source,
        r.event_name,
        r.error_code,
        r.error_message,
        r.access_key_id,
        r.source_ip,
        r.event_id
    FROM root_activity r
    JOIN denial_codes d ON d.error_code = r.error_code
    UNION ALL
    SELECT
        e.event_time,
        e.target_account,
        'assume-root',
        e.identity_arn,
        e.event_source,
        e.event_name,
        e.error_code,
        e.error_message,
        e.access_key_id,
        e.source_ip,
        e.event_id
    FROM events e
    JOIN denial_codes d ON d.error_code = e.error_code
    WHERE e.event_source = 'sts.amazonaws.com' AND e.event_name = 'AssumeRoot'
)
WHERE event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
  AND ($account = '' OR account_id = $account)
ORDER BY event_time DESC, event_id;
