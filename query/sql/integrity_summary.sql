-- integrity_summary: log files by integrity status (with the kept events
-- they hold), log files digests list that were never read (missing), then
-- digests by signature and chain status; and a line when the last
-- integrity pass did not finish (its results are partial).
SELECT 'log' AS kind, integrity AS status, count(*) AS files, coalesce(sum(kept), 0) AS events
FROM ingested_files WHERE kind = 'log' AND status = 'ok'
GROUP BY ALL
UNION ALL
SELECT 'log', 'missing', count(DISTINCT s3_object), 0
FROM integrity_unread -- found by the integrity pass (integrity_logs.sql)
HAVING count(*) > 0
UNION ALL
SELECT 'digest-signature', signature_status, count(*), 0 FROM digest_files GROUP BY ALL
UNION ALL
SELECT 'digest-chain', coalesce(chain_status, 'not-checked'), count(*), 0 FROM digest_files GROUP BY ALL
UNION ALL
SELECT 'integrity-pass', 'incomplete', 0, 0
FROM (SELECT finished_at FROM integrity_passes ORDER BY pass_id DESC LIMIT 1)
WHERE finished_at IS NULL
ORDER BY 1, 2;
