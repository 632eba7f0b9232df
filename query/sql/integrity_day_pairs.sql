-- integrity_day_pairs: the same count by (account, region) for one
-- delivery day too large for one slice. Parameter: the day.
SELECT account_id, region, CAST(sum(n) AS BIGINT) AS n
FROM (
    SELECT account_id, region, count(*) AS n FROM ingested_files
    WHERE kind = 'log' AND delivery_day = $1 AND account_id IS NOT NULL AND region IS NOT NULL
      AND integrity_in_units(account_id, region, delivery_day) GROUP BY ALL
    UNION ALL
    SELECT account_id, region, count(*) FROM digest_log_files
    WHERE delivery_day = $1 AND account_id IS NOT NULL AND region IS NOT NULL
      AND integrity_in_units(account_id, region, delivery_day) GROUP BY ALL
)
GROUP BY ALL
ORDER BY 1, 2;
