-- integrity_order: how the log files and listings are stored, to choose
-- how many strips of days the integrity pass cuts (query/integrity.go,
-- stripCount). Rows are grouped into blocks of $1 consecutive rowids
-- (about a row group); for each block, its rows and the share of all
-- accounts and of all days it holds, and (the same on every row) how many
-- days there are. A block holding a few of many
-- accounts is skipped by most slices of other accounts, one holding a few
-- of many days by most slices of other days. Rows whose account or day is
-- unknown are left out: they have slices of their own.
WITH rows AS (
    SELECT 'files' AS tbl, rowid // $1 AS block, account_id, delivery_day FROM ingested_files
    WHERE kind = 'log' AND account_id IS NOT NULL AND delivery_day IS NOT NULL
    UNION ALL
    SELECT 'listings', rowid // $1, account_id, delivery_day FROM digest_log_files
    WHERE account_id IS NOT NULL AND delivery_day IS NOT NULL
), totals AS (
    SELECT greatest(count(DISTINCT account_id), 1) AS accounts, greatest(count(DISTINCT delivery_day), 1) AS days
    FROM rows
)
SELECT count(*)                                                AS n,
       count(DISTINCT r.account_id) / any_value(t.accounts)    AS account_share,
       count(DISTINCT r.delivery_day) / any_value(t.days)      AS day_share,
       any_value(t.days)                                       AS days
FROM rows r, totals t
GROUP BY r.tbl, r.block;
