-- coverage: log-file coverage per account, region and UTC day of the window.
-- One row per stream (an account + region with at least one log file in
-- the database, on any day, in any status) and per UTC day that overlaps the
-- window, so a day without any log file is a row with log_files = 0: a gap.
-- Days are delivery days (the YYYY/MM/DD of the object key), not event days.
-- Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated account filter ('' = all accounts)
--   $4, $5 the first and last account of a group of accounts ('' = no
--      bound): rootaudit runs the query a group at a time (query/coverage.go);
--      a range, unlike a list, lets DuckDB skip row groups of other accounts
-- Columns:
--   log_files           log files read without error (status 'ok')
--   failed_files        log files that failed to read (nothing of them stored)
--   records             CloudTrail records in the ok files
--   kept_events         rows of `events` whose stored copy came from these files
--   validated_files     ok files whose integrity is 'valid' (digest-validated)
--   validated_records   records in those files
--   validated_events    kept_events from those files
--   integrity_failures  files whose integrity is neither 'valid' nor 'not-validated',
--                       and files a digest lists that were never read (missing:
--                       integrity_unread, on the delivery day of their key)
--   digest_files        digest files whose digestStartTime falls on the day
--   digest_chain_gaps   of those, chain_status 'gap' (previous digest not found)
--   digest_failures     of those, chain_status 'hash-mismatch' or a signature
--                       status other than 'valid' (as integrity_failures.sql)
WITH days AS (
    SELECT CAST(d AS DATE) AS day
    FROM range(date_trunc('day', CAST($1 AS TIMESTAMP)), CAST($2 AS TIMESTAMP), INTERVAL 1 DAY) t(d)
),
logs AS (
    SELECT source, account_id, region, CAST(delivery_day AS DATE) AS day, status, records, integrity
    FROM ingested_files
    WHERE kind = 'log' AND account_id IS NOT NULL AND region IS NOT NULL
      AND ($3 = '' OR list_contains(string_split($3, ','), account_id))
      AND ($4 = '' OR account_id >= $4) AND ($5 = '' OR account_id <= $5)
),
streams AS (
    SELECT DISTINCT account_id, region FROM logs
),
files AS (
    SELECT account_id, region, day,
           count(*) FILTER (status = 'ok')                                        AS log_files,
           count(*) FILTER (status = 'failed')                                    AS failed_files,
           coalesce(sum(records) FILTER (status = 'ok'), 0)                       AS records,
           count(*) FILTER (status = 'ok' AND integrity = 'valid')                AS validated_files,
           coalesce(sum(records) FILTER (status = 'ok' AND integrity = 'valid'), 0) AS validated_records,
           count(*) FILTER (integrity NOT IN ('valid', 'not-validated'))          AS integrity_failures
    FROM logs
    GROUP BY account_id, region, day
),
kept AS (
    SELECT l.account_id, l.region, l.day,
           count(*)                                  AS kept_events,
           count(*) FILTER (l.integrity = 'valid')   AS validated_events
    FROM events e JOIN logs l ON l.source = e.source_file
    GROUP BY l.account_id, l.region, l.day
),
missing AS (
    SELECT account_id, region, delivery_day AS day, count(DISTINCT s3_object) AS missing_files
    FROM integrity_unread
    WHERE account_id IS NOT NULL AND region IS NOT NULL
      AND ($3 = '' OR list_contains(string_split($3, ','), account_id))
      AND ($4 = '' OR account_id >= $4) AND ($5 = '' OR account_id <= $5)
    GROUP BY ALL
),
digests AS (
    SELECT account_id, region, CAST(digest_start AS DATE) AS day,
           count(*)                                                         AS digest_files,
           count(*) FILTER (chain_status = 'gap')                           AS digest_chain_gaps,
           count(*) FILTER (chain_status = 'hash-mismatch'
                            OR signature_status IS DISTINCT FROM 'valid')   AS digest_failures
    FROM digest_files
    WHERE account_id IS NOT NULL AND region IS NOT NULL
      AND ($4 = '' OR account_id >= $4) AND ($5 = '' OR account_id <= $5)
    GROUP BY account_id, region, CAST(digest_start AS DATE)
)
SELECT s.account_id, s.region, d.day,
       coalesce(f.log_files, 0)          AS log_files,
       coalesce(f.failed_files, 0)       AS failed_files,
       coalesce(f.records, 0)            AS records,
       coalesce(k.kept_events, 0)        AS kept_events,
       coalesce(f.validated_files, 0)    AS validated_files,
       coalesce(f.validated_records, 0)  AS validated_records,
       coalesce(k.validated_events, 0)   AS validated_events,
       coalesce(f.integrity_failures, 0) + coalesce(m.missing_files, 0) AS integrity_failures,
       coalesce(g.digest_files, 0)       AS digest_files,
       coalesce(g.digest_chain_gaps, 0)  AS digest_chain_gaps,
       coalesce(g.digest_failures, 0)    AS digest_failures
FROM streams s
CROSS JOIN days d
LEFT JOIN files f   ON f.account_id = s.account_id AND f.region = s.region AND f.day = d.day
LEFT JOIN kept k    ON k.account_id = s.account_id AND k.region = s.region AND k.day = d.day
LEFT JOIN missing m ON m.account_id = s.account_id AND m.region = s.region AND m.day = d.day
LEFT JOIN digests g ON g.account_id = s.account_id AND g.region = s.region AND g.day = d.day
ORDER BY s.account_id, s.region, d.day;
