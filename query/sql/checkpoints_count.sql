-- checkpoints_count: how many checkpoints checkpoints_page.sql will return
-- for the days $1 to $2, so the loader allocates them once.
SELECT count(*)
FROM ingested_files
WHERE delivery_day IS NULL OR delivery_day BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE);
