-- inventory: one row per account seen in the window, with human root use
-- counted by class (REFERENCE.md §5). Parameters:
--   $1 since (TIMESTAMP, UTC, inclusive)   $2 until (TIMESTAMP, UTC, exclusive)
--   $3 comma-separated account filter ('' = all accounts)
-- An account is "seen" when a log file of it was read with a delivery day in
-- the window, or when it received a kept event in the window.
WITH ra AS (
    SELECT * FROM root_activity
    WHERE event_time >= $1 AND event_time < $2
      AND ($3 = '' OR list_contains(string_split($3, ','), recipient_account_id))
),
seen AS (
    SELECT account_id FROM ingested_files
    WHERE kind = 'log' AND status = 'ok' AND account_id IS NOT NULL
      AND delivery_day >= CAST($1 AS DATE) AND delivery_day < CAST($2 AS DATE)
      AND ($3 = '' OR list_contains(string_split($3, ','), account_id))
    UNION
    SELECT recipient_account_id FROM ra WHERE recipient_account_id IS NOT NULL
),
agg AS (
    SELECT
        s.account_id,
        count(ra.event_id) FILTER (ra.class_no = 3 AND ra.event_name = 'ConsoleLogin' AND ra.login_result = 'Success') AS signins_success,
        count(ra.event_id) FILTER (ra.class_no = 3 AND ra.event_name = 'ConsoleLogin' AND ra.login_result = 'Failure') AS signins_failure,
        count(ra.event_id) FILTER (ra.class_no = 3 AND ra.event_name = 'ConsoleLogin' AND ra.login_result = 'Success'
                                   AND ra.mfa_used IS NOT TRUE) AS signins_without_mfa,
        count(ra.event_id) FILTER (ra.class_no = 3 AND ra.event_name <> 'ConsoleLogin') AS other_signin_events,
        count(ra.event_id) FILTER (ra.class_no = 6) AS console_calls,
        count(ra.event_id) FILTER (ra.class_no = 5) AS access_key_calls,
        coalesce(list(DISTINCT ra.access_key_id ORDER BY ra.access_key_id) FILTER (ra.class_no = 5), []) AS access_keys,
        count(ra.event_id) FILTER (ra.class_no IN (5, 6) AND ra.error_code IS NOT NULL) AS denied_calls,
        count(ra.event_id) FILTER (ra.class_no IN (1, 4)) AS service_events,
        count(ra.event_id) FILTER (ra.class_no = 2) AS session_events,
        min(ra.event_time) FILTER (ra.class_no IN (3, 5, 6)) AS first_seen,
        max(ra.event_time) FILTER (ra.class_no IN (3, 5, 6)) AS last_seen,
        coalesce(list(DISTINCT ra.source_ip ORDER BY ra.source_ip) FILTER (ra.class_no IN (3, 5, 6) AND ra.source_ip IS NOT NULL), []) AS source_ips
    FROM (SELECT DISTINCT account_id FROM seen) s
    LEFT JOIN ra ON ra.recipient_account_id = s.account_id
    GROUP BY s.account_id
)
SELECT
    *,
    CASE
        WHEN access_key_calls > 0 THEN 'root-access-key-used'
        WHEN signins_success > 0 OR other_signin_events > 0 OR console_calls > 0 THEN 'root-used'
        WHEN signins_failure > 0 THEN 'failed-signins-only'
        ELSE 'no-root-use'
    END AS verdict
FROM agg
ORDER BY account_id;
