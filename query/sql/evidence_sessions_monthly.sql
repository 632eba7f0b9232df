-- evidence_sessions_monthly: AssumeRoot calls per UTC month of issue and
-- task policy, for the chart "privileged sessions per month by task".
-- issued counts sessions that got credentials; failed the refused calls.
-- Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated target-account filter ('' = all)
SELECT CAST(date_trunc('month', issued_at) AS DATE)     AS month,
       coalesce(task_policy, '')                        AS task_policy,
       count(*) FILTER (status = 'issued')              AS issued,
       count(*) FILTER (status <> 'issued')             AS failed
FROM assume_root_calls
WHERE issued_at >= $1 AND issued_at < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), target_account))
GROUP BY 1, 2
ORDER BY 1, 2;
