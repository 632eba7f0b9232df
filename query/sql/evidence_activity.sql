-- evidence_activity: human root use per account, time bucket and class
-- (root_activity classes 3 sign-in, 5 long-term-key, 6 console), for the
-- chart "human root activity over time". Failed ConsoleLogins are counted
-- apart: they are attempts, not use. Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated account filter ('' = all)
--   $4 bucket: 'day', 'week' (weeks start on Monday) or 'month', in UTC
SELECT recipient_account_id                                       AS account_id,
       CAST(date_trunc($4, event_time) AS DATE)                   AS bucket,
       class,
       count(*) FILTER (NOT (event_name = 'ConsoleLogin' AND login_result = 'Failure')) AS events,
       count(*) FILTER (event_name = 'ConsoleLogin' AND login_result = 'Failure')       AS failed_signins
FROM human_root_activity
WHERE event_time >= $1 AND event_time < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), recipient_account_id))
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
