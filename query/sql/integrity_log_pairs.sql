-- integrity_log_pairs: how many log files, digest listings and unread
-- listings each (account, region) has, in the order slices are cut
-- (query/integrity.go), of the units an incremental pass redoes and, with
-- strips, of the strip's days; then one row with a NULL account for the
-- rows whose account, region or delivery day is unknown (with strips,
-- those of the strip's days: the pass counts the unknowns by day).
WITH counts AS (
    SELECT account_id, region, delivery_day IS NULL AS undated, count(*) AS n
    FROM ingested_files WHERE kind = 'log' AND integrity_in_units(account_id, region, delivery_day)
      AND integrity_in_strip(delivery_day) GROUP BY ALL
    UNION ALL
    SELECT account_id, region, delivery_day IS NULL, count(*) FROM digest_log_files
    WHERE integrity_in_units(account_id, region, delivery_day)
      AND integrity_in_strip(delivery_day) GROUP BY ALL
    UNION ALL
    SELECT account_id, region, delivery_day IS NULL, count(*) FROM integrity_unread
    WHERE integrity_in_units(account_id, region, delivery_day)
      AND integrity_in_strip(delivery_day) GROUP BY ALL
)
SELECT CASE WHEN known THEN account_id END AS account_id,
       CASE WHEN known THEN region END     AS region,
       CAST(sum(n) AS BIGINT)              AS n
FROM (SELECT *, account_id IS NOT NULL AND region IS NOT NULL AND NOT undated AS known FROM counts)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2;
