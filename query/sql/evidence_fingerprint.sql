-- evidence_fingerprint: the canonical content of the database, one JSON line
-- per row: every row of `events` ordered by event_id, then every row of
-- `ingested_files` ordered by source, each as DuckDB's to_json of the whole
-- row (all columns, in table order). The database fingerprint is the hex
-- SHA-256 of these lines, each followed by a newline ("\n"). To recompute
-- it without rootaudit, run this query with a DuckDB 1.5 client and hash the
-- `line` values in order, each followed by "\n" (to_json's text form can
-- change between DuckDB versions). No parameters.
SELECT line FROM (
    SELECT 1 AS part, event_id AS k, CAST(to_json(e) AS VARCHAR) AS line FROM events e
    UNION ALL
    SELECT 2 AS part, source AS k, CAST(to_json(f) AS VARCHAR) AS line FROM ingested_files f
)
ORDER BY part, k;
