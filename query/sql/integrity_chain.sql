-- integrity_chain: the chain status of the digests of one slice of
-- (account, region) pairs (integrity_macros.sql). A digest names the
-- previous digest of its account and region, so the previous digest is
-- always in the same slice. Rows are matched back by rowid: a join on the
-- long source strings cost more memory than the rest of the pass.
--
-- A predecessor that is not in the database is a gap (a deleted digest)
-- only if a validating run's window covered its delivery day (the day in
-- its key); otherwise it was never read (previous-unread), as for the first
-- digest of every account and region of a windowed run. A key whose day
-- cannot be read counts as covered.

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
FROM (
    SELECT rowid AS rid, chain_status, previous_digest_object, previous_digest_hash,
           CAST(try_strptime(regexp_extract(previous_digest_object, '/(\d{4}/\d{2}/\d{2})/[^/]*$', 1), '%Y/%m/%d') AS DATE) AS prev_day
    FROM digest_files WHERE integrity_in_pairs(account_id, region, previous_digest_object)
) d
LEFT JOIN (
    SELECT digest_s3_object AS obj, any_value(sha256) AS sha256
    FROM digest_files WHERE integrity_in_pairs(account_id, region, digest_s3_object)
    GROUP BY 1
) p ON p.obj = d.previous_digest_object;

UPDATE digest_files SET chain_status = c.chain_status
FROM integrity_chain c
WHERE digest_files.rowid = c.rid AND c.chain_status IS DISTINCT FROM c.old;

DROP TABLE integrity_chain;
