-- coverage_streams: the streams (regions with a log file) of each account,
-- within the account filter, so that coverage.sql can run a group of
-- accounts at a time (query/coverage.go). Same rows as coverage.sql's
-- streams. Parameters:
--   $1 comma-separated account filter ('' = all accounts)
SELECT account_id, count(DISTINCT region) AS streams
FROM ingested_files
WHERE kind = 'log' AND account_id IS NOT NULL AND region IS NOT NULL
  AND ($1 = '' OR list_contains(string_split($1, ','), account_id))
GROUP BY account_id
ORDER BY account_id;
