-- integrity_chain_day_pairs: the same count by (account, region) for one
-- end day too large for one slice. Parameter: the day.
SELECT account_id, region, count(*) AS n
FROM digest_files
WHERE digest_end >= CAST($1 AS DATE) AND digest_end < CAST($1 AS DATE) + INTERVAL 1 DAY
  AND account_id IS NOT NULL AND region IS NOT NULL
  AND integrity_in_chain_units(account_id, region)
GROUP BY ALL
ORDER BY 1, 2;
