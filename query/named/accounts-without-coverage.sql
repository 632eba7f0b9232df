-- name: accounts-without-coverage
-- description: Accounts known to the database whose log files do not cover every day of the window, least covered first.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
--
-- An account is known from its log files (ingested_files), from events
-- attributed to it, or as the target of an AssumeRoot call. A day is
-- covered when at least one log file of the account with that delivery day
-- (from the path) was read successfully. Accounts that never logged
-- anything and were never named in a log cannot appear: compare with
-- `rootaudit inventory --accounts accounts.json` for those.
WITH window_days AS (
    SELECT count(*) AS n
    FROM range(date_trunc('day', CAST($since AS TIMESTAMP)), CAST($until AS TIMESTAMP), INTERVAL 1 DAY)
),
known AS (
    SELECT account_id FROM ingested_files WHERE account_id IS NOT NULL
    UNION SELECT recipient_account_id FROM events WHERE recipient_account_id IS NOT NULL
    UNION SELECT target_account FROM events WHERE target_account IS NOT NULL
),
files AS (
    SELECT account_id, delivery_day, status,
           delivery_day >= CAST(CAST($since AS TIMESTAMP) AS DATE)
           AND CAST(delivery_day AS TIMESTAMP) < CAST($until AS TIMESTAMP) AS in_window
    FROM ingested_files
    WHERE kind = 'log' AND account_id IS NOT NULL
),
per_account AS (
    SELECT
        k.account_id,
        count(DISTINCT f.delivery_day) FILTER (f.status = 'ok' AND f.in_window) AS days_with_logs,
        count(f.delivery_day) FILTER (f.status = 'failed' AND f.in_window) AS failed_files,
        min(f.delivery_day) FILTER (f.status = 'ok') AS first_log_day,
        max(f.delivery_day) FILTER (f.status = 'ok') AS last_log_day
    FROM known k
    LEFT JOIN files f ON f.account_id = k.account_id
    GROUP BY k.account_id
)
SELECT
    p.account_id,
    w.n AS window_days,
    p.days_with_logs,
    w.n - p.days_with_logs AS days_without_logs,
    p.failed_files,
    p.first_log_day,
    p.last_log_day
FROM per_account p
CROSS JOIN window_days w
WHERE p.days_with_logs < w.n OR p.failed_files > 0
ORDER BY p.days_with_logs, p.account_id;
