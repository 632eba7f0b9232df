-- integrity_summary: log files by integrity status (with the kept events
-- they hold), then digests by signature and chain status.
SELECT 'log' AS kind, integrity AS status, count(*) AS files, coalesce(sum(kept), 0) AS events
FROM ingested_files WHERE kind = 'log' AND status = 'ok'
GROUP BY ALL
UNION ALL
SELECT 'digest-signature', signature_status, count(*), 0 FROM digest_files GROUP BY ALL
UNION ALL
SELECT 'digest-chain', coalesce(chain_status, 'not-checked'), count(*), 0 FROM digest_files GROUP BY ALL
ORDER BY 1, 2;
