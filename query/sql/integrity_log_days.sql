-- integrity_log_days: the same count by delivery day for one (account,
-- region) too large for one slice, within the strip's days with strips.
-- Parameters: account, region.
SELECT delivery_day, CAST(sum(n) AS BIGINT) AS n
FROM (
    SELECT delivery_day, count(*) AS n FROM ingested_files
    WHERE kind = 'log' AND account_id = $1 AND region = $2 AND delivery_day IS NOT NULL
      AND integrity_in_units(account_id, region, delivery_day) AND integrity_in_strip(delivery_day) GROUP BY 1
    UNION ALL
    SELECT delivery_day, count(*) FROM digest_log_files
    WHERE account_id = $1 AND region = $2 AND delivery_day IS NOT NULL
      AND integrity_in_units(account_id, region, delivery_day) AND integrity_in_strip(delivery_day) GROUP BY 1
)
GROUP BY 1
ORDER BY 1;
