-- sessions: every AssumeRoot call issued in the window. Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated target-account filter ('' = all)
--   $4 issuer filter: substring of issuer_arn ('' = all)
SELECT event_id, issuer_arn, issuer_account, target_account, task_policy, duration_seconds,
       issued_at, expires_at, access_key_id, status, aws_region
FROM assume_root_calls
WHERE issued_at >= $1 AND issued_at < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), target_account))
  AND ($4 = '' OR position($4 IN coalesce(issuer_arn, '')) > 0)
ORDER BY issued_at, access_key_id NULLS FIRST, event_id;
