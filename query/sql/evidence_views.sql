-- evidence_views: the definitions of the views every figure reads
-- (classification of root events, sessions, credential timeline), as stored
-- in this database. No parameters.
SELECT view_name, sql
FROM duckdb_views()
WHERE NOT internal AND schema_name = 'main'
ORDER BY view_name;
