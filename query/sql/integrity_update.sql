-- integrity_update: after an ingest with --validate, derive the chain status
-- of every digest and the integrity status of every log file (schema v3).
-- Log files and digests are matched on their key from "AWSLogs/" on, so a
-- local copy (any directory) matches the S3 keys digests name.

UPDATE digest_files SET chain_status = CASE
    WHEN coalesce(previous_digest_object, '') = '' THEN 'first'
    WHEN NOT EXISTS (SELECT 1 FROM digest_files p WHERE p.digest_s3_object = digest_files.previous_digest_object) THEN 'gap'
    WHEN (SELECT any_value(p.sha256) FROM digest_files p WHERE p.digest_s3_object = digest_files.previous_digest_object)
         IS DISTINCT FROM previous_digest_hash THEN 'hash-mismatch'
    ELSE 'ok'
END;

CREATE OR REPLACE TEMP TABLE integrity_new AS
WITH listed AS (
    SELECT substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) AS k,
           bool_or(d.signature_status = 'valid')                AS sig_ok,
           list(DISTINCT l.hash_value)                          AS hashes
    FROM digest_log_files l JOIN digest_files d ON d.source = l.digest_source
    GROUP BY 1
),
logs AS (
    SELECT source, sha256, account_id, region, delivery_day,
           substr(source, strpos(source, 'AWSLogs/')) AS k,
           try_strptime(regexp_extract(source, '_(\d{8}T\d{4})Z_[^/]*$', 1), '%Y%m%dT%H%M') AS delivered
    FROM ingested_files
    WHERE kind = 'log' AND status = 'ok'
)
SELECT g.source,
    CASE
        WHEN g.sha256 IS NULL THEN 'not-validated'
        WHEN l.k IS NULL AND EXISTS (
            SELECT 1 FROM digest_files d
            WHERE d.account_id = g.account_id AND d.region = g.region
              AND (CASE WHEN g.delivered IS NULL
                        THEN CAST(d.digest_end AS DATE) = g.delivery_day
                        ELSE g.delivered BETWEEN d.digest_start - INTERVAL 1 HOUR AND d.digest_end + INTERVAL 1 HOUR END)
        ) THEN 'not-in-digest'
        WHEN l.k IS NULL THEN 'digest-missing'
        WHEN NOT list_contains(l.hashes, g.sha256) THEN 'hash-mismatch'
        WHEN NOT l.sig_ok THEN 'signature-invalid'
        ELSE 'valid'
    END AS integrity
FROM logs g LEFT JOIN listed l ON l.k = g.k;

UPDATE ingested_files SET integrity = n.integrity
FROM integrity_new n WHERE ingested_files.source = n.source;

DROP TABLE integrity_new;
