-- integrity_logs: the integrity status of the log files of one slice of
-- (account, region, delivery day) (integrity_macros.sql), and the files
-- that slice's digests list but nobody read. Log files and listings are
-- matched on their key from "AWSLogs/" on, so a local copy (any directory)
-- matches the S3 keys digests name; a listing carries the account, region
-- and day of the file it names (schema v6), so both are in the same slice.
--
--   valid              a digest whose signature verified lists the file with its SHA-256
--   signature-invalid  only digests whose signature did not verify list it with that hash
--   hash-mismatch      digests list the file, with another hash (tampered or corrupt)
--   not-in-digest      no digest lists it, though a digest covers its delivery time
--   digest-missing     no digest covers it
--   not-validated      read without --validate

-- Each listed key of the slice, with the hashes digests promise for it:
-- all of them, and those in digests whose signature verified.
CREATE OR REPLACE TEMP TABLE integrity_listed AS
SELECT k, list(DISTINCT h) FILTER (WHERE sig_ok) AS good, list(DISTINCT h) AS hashes
FROM (
    SELECT substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) AS k,
           l.hash_value                                         AS h,
           d.signature_status = 'valid'                         AS sig_ok
    FROM digest_log_files l
    JOIN digest_files d ON d.source = l.digest_source
    WHERE integrity_in_slice(l.account_id, l.region, l.delivery_day)
)
GROUP BY k;

-- Every log file of the slice against the listings, in one join: a file
-- no digest lists, and a listed key no file has (unread). A file that
-- could not be read counts as present, as in the summary, but keeps its
-- status.
CREATE OR REPLACE TEMP TABLE integrity_new AS
WITH files AS (
    SELECT rowid AS rid, account_id, region, delivery_day, sha256, status, integrity AS old,
           substr(source, strpos(source, 'AWSLogs/')) AS k
    FROM ingested_files
    WHERE kind = 'log' AND integrity_in_slice(account_id, region, delivery_day)
)
SELECT coalesce(f.k, m.k) AS k, f.rid, f.account_id, f.region, f.delivery_day, f.old,
    CASE
        WHEN f.rid IS NULL THEN 'unread'
        WHEN f.status <> 'ok' THEN NULL
        WHEN f.sha256 IS NULL THEN 'not-validated'
        WHEN m.k IS NULL THEN 'digest-missing' -- or not-in-digest: decided below
        WHEN list_contains(m.good, f.sha256) THEN 'valid'
        WHEN list_contains(m.hashes, f.sha256) THEN 'signature-invalid'
        ELSE 'hash-mismatch'
    END AS integrity
FROM files f
FULL OUTER JOIN integrity_listed m ON m.k = f.k;

-- A hashed log file that no digest lists: if a digest covers its delivery
-- time, the file was added after that digest was written (not-in-digest);
-- otherwise the digest itself is missing. Only these few files are
-- compared with digest periods.
UPDATE integrity_new SET integrity = 'not-in-digest'
FROM (
    SELECT DISTINCT u.rid
    FROM (SELECT rid, account_id, region, delivery_day,
                 try_strptime(regexp_extract(k, '_(\d{8}T\d{4})Z_[^/]*$', 1), '%Y%m%dT%H%M') AS delivered
          FROM integrity_new WHERE integrity = 'digest-missing') u
    JOIN digest_files d ON d.account_id = u.account_id AND d.region = u.region
    WHERE CASE WHEN u.delivered IS NULL
               THEN CAST(d.digest_end AS DATE) = u.delivery_day
               ELSE u.delivered BETWEEN d.digest_start - INTERVAL 1 HOUR AND d.digest_end + INTERVAL 1 HOUR END
) c
WHERE integrity_new.rid = c.rid;

UPDATE ingested_files SET integrity = n.integrity
FROM integrity_new n
WHERE ingested_files.rowid = n.rid AND n.integrity NOT IN ('unread') AND n.integrity IS DISTINCT FROM n.old;

-- The slice's unread files, one row per digest that lists them.
DELETE FROM integrity_unread WHERE integrity_in_slice(account_id, region, delivery_day);

INSERT INTO integrity_unread
SELECT DISTINCT l.s3_bucket, l.s3_object, l.digest_source, l.account_id, l.region, l.delivery_day
FROM digest_log_files l
WHERE integrity_in_slice(l.account_id, l.region, l.delivery_day)
  AND substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) IN (SELECT k FROM integrity_new WHERE integrity = 'unread');

DROP TABLE integrity_listed;
DROP TABLE integrity_new;
