-- evidence_runs: every `rootaudit ingest` run that wrote this database, in
-- order: where the logs were read from and with which window.
-- No parameters.
SELECT run_id, started_at, finished_at, coalesce(rootaudit_version, '') AS rootaudit_version,
       coalesce(command, '') AS command, coalesce(sources, '') AS sources,
       window_since, window_until, files_listed, files_read, files_failed, records, kept,
       coalesce(status, '') AS status
FROM runs
ORDER BY run_id;
