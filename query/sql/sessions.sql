-- sessions: every AssumeRoot call issued in the window. Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated target-account filter ('' = all)
--   $4 issuer filter: substring of issuer_arn ('' = all)
-- Missing text comes back as '' (the report shows it empty) so that it
-- scans into plain strings; access_key_id keeps its NULL (JSON null).
SELECT event_id, coalesce(issuer_arn, '') AS issuer_arn, coalesce(issuer_account, '') AS issuer_account,
       coalesce(target_account, '') AS target_account, coalesce(task_policy, '') AS task_policy,
       CAST(duration_seconds AS BIGINT) AS duration_seconds, issued_at, expires_at, access_key_id, status,
       coalesce(aws_region, '') AS aws_region
FROM assume_root_calls
WHERE issued_at >= $1 AND issued_at < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), target_account))
  AND ($4 = '' OR position($4 IN coalesce(issuer_arn, '')) > 0)
ORDER BY issued_at, access_key_id NULLS FIRST, event_id;
