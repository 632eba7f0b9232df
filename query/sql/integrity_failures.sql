-- integrity_failures: every log file that is not valid (when validation
-- ran), every log file a digest lists that was never read (deleted?), every
-- digest whose signature is not valid, every chain gap, and an integrity
-- pass that did not finish.
-- query.summaryFailures counts from integrity_summary.sql whether this
-- query can find anything: a new failing status here must be added there.
SELECT source, 'log' AS kind, integrity AS status,
       coalesce(account_id, '') || ' ' || coalesce(region, '') || ' ' || coalesce(CAST(delivery_day AS VARCHAR), '') AS detail
FROM ingested_files
WHERE kind = 'log' AND status = 'ok' AND integrity NOT IN ('valid', 'not-validated')
UNION ALL
SELECT DISTINCT 's3://' || coalesce(s3_bucket, '') || '/' || s3_object, 'log', 'missing', 'listed in ' || digest_source
FROM integrity_unread
UNION ALL
SELECT source, 'digest', 'signature-' || signature_status, coalesce(digest_s3_object, '')
FROM digest_files WHERE signature_status <> 'valid'
UNION ALL
SELECT source, 'digest', 'chain-' || chain_status, 'previous: ' || coalesce(previous_digest_object, '')
FROM digest_files WHERE chain_status IN ('gap', 'hash-mismatch')
UNION ALL
SELECT source, kind, 'read-failed', coalesce(reason, '')
FROM ingested_files WHERE status = 'failed'
UNION ALL
SELECT '', 'pass', 'incomplete', 'the integrity pass started ' || strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') || ' did not finish: results are partial; run `rootaudit ingest --validate` again'
FROM (SELECT started_at, finished_at FROM integrity_passes ORDER BY pass_id DESC LIMIT 1)
WHERE finished_at IS NULL
ORDER BY 2, 3, 1;
