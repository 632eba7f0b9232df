-- integrity_update: after an ingest with --validate, derive the chain status
-- of every digest and the integrity status of every log file (schema v3).
-- Log files and digests are matched on their key from "AWSLogs/" on, so a
-- local copy (any directory) matches the S3 keys digests name.
--
-- Both statuses are computed with joins into a temporary table and then
-- written with one UPDATE ... FROM: correlated subqueries here made DuckDB
-- compare every log file with every digest of its account and region
-- (1.5 s of 5 on the bench trail, docs/performance.md).

CREATE OR REPLACE TEMP TABLE chain_new AS
SELECT d.source,
    CASE
        WHEN coalesce(d.previous_digest_object, '') = '' THEN 'first'
        WHEN p.obj IS NULL THEN 'gap'
        WHEN p.sha256 IS DISTINCT FROM d.previous_digest_hash THEN 'hash-mismatch'
        ELSE 'ok'
    END AS chain_status
FROM digest_files d
LEFT JOIN (SELECT digest_s3_object AS obj, any_value(sha256) AS sha256 FROM digest_files GROUP BY 1) p
       ON p.obj = d.previous_digest_object;

UPDATE digest_files SET chain_status = c.chain_status
FROM chain_new c WHERE digest_files.source = c.source;

DROP TABLE chain_new;

CREATE OR REPLACE TEMP TABLE integrity_new AS
WITH listed AS (
    SELECT substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) AS k,
           bool_or(d.signature_status = 'valid')                AS sig_ok,
           list(DISTINCT l.hash_value)                          AS hashes
    FROM digest_log_files l JOIN digest_files d ON d.source = l.digest_source
    GROUP BY 1
)
SELECT g.source, g.account_id, g.region, g.delivery_day,
    CASE
        WHEN g.sha256 IS NULL THEN 'not-validated'
        WHEN l.k IS NULL THEN 'digest-missing' -- or not-in-digest: decided below
        WHEN NOT list_contains(l.hashes, g.sha256) THEN 'hash-mismatch'
        WHEN NOT l.sig_ok THEN 'signature-invalid'
        ELSE 'valid'
    END AS integrity
FROM ingested_files g
LEFT JOIN listed l ON l.k = substr(g.source, strpos(g.source, 'AWSLogs/'))
WHERE g.kind = 'log' AND g.status = 'ok';

-- A hashed log file that no digest lists: if a digest covers its delivery
-- time, the file was added after that digest was written (not-in-digest);
-- otherwise the digest itself is missing. Only these few files are
-- compared with digest periods.
UPDATE integrity_new SET integrity = 'not-in-digest'
FROM (
    SELECT DISTINCT u.source
    FROM (SELECT source, account_id, region, delivery_day,
                 try_strptime(regexp_extract(source, '_(\d{8}T\d{4})Z_[^/]*$', 1), '%Y%m%dT%H%M') AS delivered
          FROM integrity_new WHERE integrity = 'digest-missing') u
    JOIN digest_files d ON d.account_id = u.account_id AND d.region = u.region
    WHERE CASE WHEN u.delivered IS NULL
               THEN CAST(d.digest_end AS DATE) = u.delivery_day
               ELSE u.delivered BETWEEN d.digest_start - INTERVAL 1 HOUR AND d.digest_end + INTERVAL 1 HOUR END
) c
WHERE integrity_new.source = c.source;

UPDATE ingested_files SET integrity = n.integrity
FROM integrity_new n WHERE ingested_files.source = n.source;

DROP TABLE integrity_new;
