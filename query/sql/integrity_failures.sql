-- integrity_failures: every log file that is not valid (when validation
-- ran), every log file a digest lists that was never read (deleted?), every
-- digest whose signature is not valid, and every chain gap.
-- query.summaryHasFailures decides from integrity_summary.sql whether this
-- query can find anything: a new failing status here must be added there.
SELECT source, 'log' AS kind, integrity AS status,
       coalesce(account_id, '') || ' ' || coalesce(region, '') || ' ' || coalesce(CAST(delivery_day AS VARCHAR), '') AS detail
FROM ingested_files
WHERE kind = 'log' AND status = 'ok' AND integrity NOT IN ('valid', 'not-validated')
UNION ALL
SELECT DISTINCT 's3://' || coalesce(l.s3_bucket, '') || '/' || l.s3_object, 'log', 'missing', 'listed in ' || l.digest_source
FROM digest_log_files l
WHERE NOT EXISTS (
    SELECT 1 FROM ingested_files f
    WHERE f.kind = 'log' AND substr(f.source, strpos(f.source, 'AWSLogs/')) = substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')))
UNION ALL
SELECT source, 'digest', 'signature-' || signature_status, coalesce(digest_s3_object, '')
FROM digest_files WHERE signature_status <> 'valid'
UNION ALL
SELECT source, 'digest', 'chain-' || chain_status, 'previous: ' || coalesce(previous_digest_object, '')
FROM digest_files WHERE chain_status IN ('gap', 'hash-mismatch')
UNION ALL
SELECT source, kind, 'read-failed', coalesce(reason, '')
FROM ingested_files WHERE status = 'failed'
ORDER BY 2, 3, 1;
