-- integrity_unreadable: how many files could not be read at all. Such
-- files are integrity failures (integrity_failures.sql lists them as
-- read-failed) but are in no line of integrity_summary.sql.
SELECT count(*) FROM ingested_files WHERE status = 'failed';
