-- integrity_chain: the chain status of the digests of one slice
-- (integrity_macros.sql). A digest names the previous digest of its
-- account and region: without strips, that is always in the same slice;
-- with strips, it is looked up among the digests of the same pairs that
-- end near the day its key names, which can be an earlier strip.
-- Rows are matched back by rowid: a join on the long source strings cost
-- more memory than the rest of the pass.
--
-- A predecessor that is not in the database is a gap (a deleted digest)
-- only if a validating run's window covered its delivery day (the day in
-- its key); otherwise it was never read (previous-unread), as for the first
-- digest of every account and region of a windowed run. A key whose day
-- cannot be read counts as covered.

CREATE OR REPLACE TEMP TABLE integrity_chain_d AS
SELECT rowid AS rid, chain_status, previous_digest_object, previous_digest_hash,
       CAST(try_strptime(regexp_extract(previous_digest_object, '/(\d{4}/\d{2}/\d{2})/[^/]*$', 1), '%Y/%m/%d') AS DATE) AS prev_day
FROM digest_files WHERE integrity_in_pairs(account_id, region, digest_end, previous_digest_object);

-- Where the previous digests can be, with strips
-- (integrity_prev_near): a digest ends within a day of the day in its key,
-- so the slice's previous digests end between the day before the first
-- day their keys name and the day after the last. A key whose day cannot
-- be read sends the lookup over every digest.
SET VARIABLE prev_lo = (SELECT CAST(min(prev_day) AS TIMESTAMP) - INTERVAL 1 DAY FROM integrity_chain_d);
SET VARIABLE prev_hi = (SELECT CAST(max(prev_day) AS TIMESTAMP) + INTERVAL 2 DAY FROM integrity_chain_d);
SET VARIABLE prev_any = (SELECT coalesce(bool_or(prev_day IS NULL AND coalesce(previous_digest_object, '') <> ''), false) FROM integrity_chain_d);

CREATE OR REPLACE TEMP TABLE integrity_chain AS
SELECT d.rid, d.chain_status AS old,
    CASE
        WHEN coalesce(d.previous_digest_object, '') = '' THEN 'first'
        WHEN p.obj IS NULL AND d.prev_day IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM runs r
            WHERE r.validated
              AND (r.window_since IS NULL OR CAST(d.prev_day AS TIMESTAMP) + INTERVAL 1 DAY > r.window_since)
              AND (r.window_until IS NULL OR CAST(d.prev_day AS TIMESTAMP) < r.window_until)
        ) THEN 'previous-unread'
        WHEN p.obj IS NULL THEN 'gap'
        WHEN p.sha256 IS DISTINCT FROM d.previous_digest_hash THEN 'hash-mismatch'
        ELSE 'ok'
    END AS chain_status
FROM integrity_chain_d d
LEFT JOIN (
    SELECT digest_s3_object AS obj, any_value(sha256) AS sha256
    FROM digest_files
    WHERE integrity_prev_near(account_id, region, digest_end, digest_s3_object)
      AND digest_s3_object IN (SELECT previous_digest_object FROM integrity_chain_d)
    GROUP BY 1
) p ON p.obj = d.previous_digest_object;

UPDATE digest_files SET chain_status = c.chain_status
FROM integrity_chain c
WHERE digest_files.rowid = c.rid AND c.chain_status IS DISTINCT FROM c.old;

DROP TABLE integrity_chain_d;
DROP TABLE integrity_chain;
