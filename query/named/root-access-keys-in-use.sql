-- name: root-access-keys-in-use
-- description: Long-term root access keys (AKIA…) used in the window, per account and key, most recently used first.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- Calls made by the root user with a long-term access key (class
-- long-term-key of root_activity). last_used_ever looks past the window's
-- end; deleted_at is the first successful DeleteAccessKey naming the key
-- (by human root or in an IAMDeleteRootUserCredentials session), NULL when
-- the logs hold none: such a key is presumably still active.
WITH uses AS (
    SELECT recipient_account_id AS account_id, access_key_id, event_time, source_ip, user_agent,
           event_source, event_name, error_code
    FROM root_activity
    WHERE class = 'long-term-key'
      AND ($account = '' OR recipient_account_id = $account)
),
deleted AS (
    SELECT recipient_account_id AS account_id,
           json_extract_string(raw, '$.requestParameters.accessKeyId') AS access_key_id,
           min(event_time) AS deleted_at
    FROM events
    WHERE identity_type = 'Root' AND event_name = 'DeleteAccessKey' AND error_code IS NULL
    GROUP BY ALL
),
ever AS (
    SELECT account_id, access_key_id, max(event_time) AS last_used_ever
    FROM uses
    GROUP BY ALL
)
SELECT
    u.account_id,
    u.access_key_id,
    count(*) AS calls,
    count(*) FILTER (u.error_code IS NOT NULL) AS failed_calls,
    min(u.event_time) AS first_used,
    max(u.event_time) AS last_used,
    any_value(e.last_used_ever) AS last_used_ever,
    list(DISTINCT u.source_ip ORDER BY u.source_ip) FILTER (u.source_ip IS NOT NULL) AS source_ips,
    list(DISTINCT u.user_agent ORDER BY u.user_agent) FILTER (u.user_agent IS NOT NULL) AS user_agents,
    list(DISTINCT replace(u.event_source, '.amazonaws.com', '') || ':' || u.event_name
         ORDER BY replace(u.event_source, '.amazonaws.com', '') || ':' || u.event_name) AS actions,
    any_value(d.deleted_at) AS deleted_at
FROM uses u
JOIN ever e USING (account_id, access_key_id)
LEFT JOIN deleted d USING (account_id, access_key_id)
WHERE u.event_time >= CAST($since AS TIMESTAMP)
  AND u.event_time < CAST($until AS TIMESTAMP)
GROUP BY u.account_id, u.access_key_id
ORDER BY last_used DESC, u.account_id, u.access_key_id;
