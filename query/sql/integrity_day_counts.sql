-- integrity_day_counts: how many log files, digest listings and unread
-- listings each delivery day has, of the units an incremental pass
-- redoes, to cut strips of days (query/integrity.go); then one row with a
-- NULL day for the rows whose account, region or delivery day is unknown.
WITH counts AS (
    SELECT delivery_day, account_id IS NULL OR region IS NULL AS unknown, count(*) AS n
    FROM ingested_files WHERE kind = 'log' AND integrity_in_units(account_id, region, delivery_day) GROUP BY ALL
    UNION ALL
    SELECT delivery_day, account_id IS NULL OR region IS NULL, count(*) FROM digest_log_files
    WHERE integrity_in_units(account_id, region, delivery_day) GROUP BY ALL
    UNION ALL
    SELECT delivery_day, account_id IS NULL OR region IS NULL, count(*) FROM integrity_unread
    WHERE integrity_in_units(account_id, region, delivery_day) GROUP BY ALL
)
SELECT CASE WHEN NOT unknown THEN delivery_day END AS delivery_day,
       CAST(sum(n) AS BIGINT)                      AS n
FROM counts
GROUP BY 1
ORDER BY 1 NULLS LAST;
