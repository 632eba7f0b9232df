-- integrity_order: how the log files and listings are stored, to choose
-- the order the integrity pass cuts its slices in (query/integrity.go).
-- Rows are grouped into blocks of $1 consecutive rowids (about a row
-- group); a block holding a few of many accounts is skipped by most slices
-- cut by account, one holding a few of many days by most slices cut by
-- day. account_spread and day_spread add up, over the blocks, the share of
-- accounts (days) each one holds: about how many times slices cut that way
-- would read the whole table, over the number of slices. Rows whose
-- account or day is unknown are left out: they have slices of their own.
WITH rows AS (
    SELECT 'files' AS tbl, rowid // $1 AS block, account_id, delivery_day FROM ingested_files
    WHERE kind = 'log' AND account_id IS NOT NULL AND delivery_day IS NOT NULL
    UNION ALL
    SELECT 'listings', rowid // $1, account_id, delivery_day FROM digest_log_files
    WHERE account_id IS NOT NULL AND delivery_day IS NOT NULL
), blocks AS (
    SELECT count(DISTINCT account_id) AS accounts, count(DISTINCT delivery_day) AS days
    FROM rows GROUP BY tbl, block
), totals AS (
    SELECT greatest(count(DISTINCT account_id), 1) AS accounts, greatest(count(DISTINCT delivery_day), 1) AS days
    FROM rows
)
SELECT coalesce(sum(b.accounts / t.accounts), 0) AS account_spread,
       coalesce(sum(b.days / t.days), 0)         AS day_spread
FROM blocks b, totals t;
