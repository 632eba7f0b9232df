-- name: root-signins-from-new-ips
-- description: Root sign-in events from a source IP the account's root user had never used before, newest first.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- "Never used before" looks at every stored human root event of the account
-- (sign-ins, console and access-key calls), not only the window: the row is
-- the first time the IP appears. ips_seen_before counts the distinct IPs the
-- account's root user used earlier; 0 means the database holds no earlier
-- human root use of the account, so every IP is new.
WITH human AS (
    SELECT recipient_account_id AS account_id, source_ip, event_time, event_id, class, event_name,
           login_result, mfa_used, user_agent
    FROM human_root_activity
    WHERE source_ip IS NOT NULL
),
first_use AS (
    SELECT account_id, source_ip, min(event_time) AS first_seen
    FROM human
    GROUP BY ALL
)
SELECT
    h.event_time,
    h.account_id,
    h.source_ip,
    h.event_name,
    h.login_result,
    h.mfa_used,
    h.user_agent,
    (SELECT count(DISTINCT p.source_ip) FROM first_use p
      WHERE p.account_id = h.account_id AND p.first_seen < h.event_time) AS ips_seen_before,
    h.event_id
FROM human h
JOIN first_use f ON f.account_id = h.account_id AND f.source_ip = h.source_ip AND f.first_seen = h.event_time
WHERE h.class = 'sign-in'
  AND h.event_time >= CAST($since AS TIMESTAMP)
  AND h.event_time < CAST($until AS TIMESTAMP)
  AND ($account = '' OR h.account_id = $account)
ORDER BY h.event_time DESC, h.event_id;
