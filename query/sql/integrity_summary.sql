-- integrity_summary: log files by integrity status (with the kept events
-- they hold), log files digests list that were never read (missing), then
-- digests by signature and chain status.
SELECT 'log' AS kind, integrity AS status, count(*) AS files, coalesce(sum(kept), 0) AS events
FROM ingested_files WHERE kind = 'log' AND status = 'ok'
GROUP BY ALL
UNION ALL
SELECT 'log', 'missing', count(DISTINCT l.s3_object), 0
FROM digest_log_files l
WHERE NOT EXISTS (
    SELECT 1 FROM ingested_files f
    WHERE f.kind = 'log' AND substr(f.source, strpos(f.source, 'AWSLogs/')) = substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')))
HAVING count(*) > 0
UNION ALL
SELECT 'digest-signature', signature_status, count(*), 0 FROM digest_files GROUP BY ALL
UNION ALL
SELECT 'digest-chain', coalesce(chain_status, 'not-checked'), count(*), 0 FROM digest_files GROUP BY ALL
ORDER BY 1, 2;
