-- evidence_fingerprint_pages: evidence_fingerprint.sql's lines, a range of
-- keys at a time (query/evidence.go, Fingerprint). DuckDB hands a query's
-- whole result over at once: a year of a large organization's
-- ingested_files is millions of JSON lines (6 GB of memory in one piece at
-- 6.2 million files). The ranges are cut at keys of a sample, so each holds
-- about a page of rows and a key that occurs twice is never split. Six
-- statements, in this order, for events (key event_id) then ingested_files
-- (key source):
--   1, 4. the number of rows
--   2, 5. a sample of 10,000 keys (fixed seed)
--   3, 6. the lines of the keys after $1 up to $2 (NULL: unbounded),
--         ordered by key then line
SELECT count(*) FROM events;
SELECT event_id FROM events USING SAMPLE reservoir(10000 ROWS) REPEATABLE (1);
SELECT CAST(to_json(e) AS VARCHAR) AS line FROM events e
WHERE ($1 IS NULL OR event_id > $1) AND ($2 IS NULL OR event_id <= $2)
ORDER BY event_id, line;
SELECT count(*) FROM ingested_files;
SELECT source FROM ingested_files USING SAMPLE reservoir(10000 ROWS) REPEATABLE (1);
SELECT CAST(to_json(f) AS VARCHAR) AS line FROM ingested_files f
WHERE ($1 IS NULL OR source > $1) AND ($2 IS NULL OR source <= $2)
ORDER BY source, line;
