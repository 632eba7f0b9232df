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

-- integrity_listed, each (key, hash) the slice's digests promise, is made
-- first, by integrity_listed.sql or integrity_listed_strips.sql.

-- Every log file of the slice, with its status. A file that could not be
-- read keeps its status (NULL here) but counts as present below.
CREATE OR REPLACE TEMP TABLE integrity_new AS
WITH files AS (
    SELECT rowid AS rid, account_id, region, delivery_day, sha256, status, integrity AS old,
           substr(source, strpos(source, 'AWSLogs/')) AS k
    FROM ingested_files
    WHERE kind = 'log' AND integrity_in_slice(account_id, region, delivery_day, substr(source, strpos(source, 'AWSLogs/')))
)
SELECT f.k, f.rid, f.account_id, f.region, f.delivery_day, f.old,
    CASE
        WHEN f.status <> 'ok' THEN NULL
        WHEN f.sha256 IS NULL THEN 'not-validated'
        WHEN m.k IS NOT NULL THEN CASE WHEN m.sig_ok THEN 'valid' ELSE 'signature-invalid' END
        WHEN f.k IN (SELECT k FROM integrity_listed) THEN 'hash-mismatch'
        ELSE 'digest-missing' -- or not-in-digest: decided below
    END AS integrity
FROM files f
LEFT JOIN integrity_listed m ON m.k = f.k AND m.h = f.sha256;

-- A hashed log file that no digest lists: if a digest covers its delivery
-- time, the file was added after that digest was written (not-in-digest);
-- otherwise the digest itself is missing. A digest covering it ends on its
-- delivery day or the day before or after: the join is on those days, so
-- that a trail with many such files (digests not delivered for months)
-- does not compare each with every digest of its account and region.
UPDATE integrity_new SET integrity = 'not-in-digest'
FROM (
    SELECT DISTINCT u.rid
    FROM (SELECT rid, account_id, region, delivery_day, delivered,
                 unnest([coalesce(CAST(delivered AS DATE), delivery_day) - 1,
                         coalesce(CAST(delivered AS DATE), delivery_day),
                         coalesce(CAST(delivered AS DATE), delivery_day) + 1]) AS near
          FROM (SELECT rid, account_id, region, delivery_day,
                       try_strptime(regexp_extract(k, '_(\d{8}T\d{4})Z_[^/]*$', 1), '%Y%m%dT%H%M') AS delivered
                FROM integrity_new WHERE integrity = 'digest-missing')) u
    JOIN digest_files d
      ON d.account_id = u.account_id AND d.region = u.region AND CAST(d.digest_end AS DATE) = u.near
    WHERE CASE WHEN u.delivered IS NULL
               THEN CAST(d.digest_end AS DATE) = u.delivery_day
               ELSE u.delivered BETWEEN d.digest_start - INTERVAL 1 HOUR AND d.digest_end + INTERVAL 1 HOUR END
) c
WHERE integrity_new.rid = c.rid;

UPDATE ingested_files SET integrity = n.integrity
FROM integrity_new n
WHERE ingested_files.rowid = n.rid AND n.integrity IS NOT NULL AND n.integrity IS DISTINCT FROM n.old;

-- The slice's listed files that no log file has (unread), one row per
-- digest that lists them. The unread keys come from the two slice tables
-- above (nearly always none), so the listings are probed against that
-- small set rather than against every file of the slice: 40-50% less time
-- for this statement on the bench trail.
DELETE FROM integrity_unread
WHERE integrity_in_slice(account_id, region, delivery_day, substr(s3_object, strpos(s3_object, 'AWSLogs/')));

INSERT INTO integrity_unread
SELECT DISTINCT l.s3_bucket, l.s3_object, l.digest_source, l.account_id, l.region, l.delivery_day
FROM digest_log_files l
WHERE integrity_in_slice(l.account_id, l.region, l.delivery_day, substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')))
  AND substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) IN (SELECT k FROM integrity_listed EXCEPT SELECT k FROM integrity_new);

DROP TABLE integrity_listed;
DROP TABLE integrity_new;
