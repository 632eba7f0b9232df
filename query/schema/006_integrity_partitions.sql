-- Schema version 6: the integrity pass runs in bounded memory.
--
-- The pass used to join every log file with every digest listing in one
-- statement. Under the ingest writer's memory cap that failed with "Out of
-- Memory" at about 150,000 log files (a 4 GB trail; an organization's year
-- is ten to a hundred times that). It now works on slices of the trail, a
-- range of (account, region, delivery day) at a time (query/integrity.go),
-- and needs the same three values on both sides of the match.

-- The account, region and delivery day of the log file a listing names,
-- parsed from its S3 key the way ingest.ParseKey parses a file's path. NULL
-- when the key is not in CloudTrail's layout.
ALTER TABLE digest_log_files ADD COLUMN account_id VARCHAR;
ALTER TABLE digest_log_files ADD COLUMN region VARCHAR;
ALTER TABLE digest_log_files ADD COLUMN delivery_day DATE;

-- Rows stored by older versions: the same parse in SQL. The pattern is
-- anchored at the end, so it reads the layout after the last "AWSLogs"
-- segment, as ParseKey does, with ParseKey's checks on the organization,
-- account and region.
UPDATE digest_log_files SET account_id = p.account_id, region = p.region, delivery_day = p.delivery_day
FROM (
    SELECT rid,
           CASE WHEN day IS NOT NULL THEN m.a END AS account_id,
           CASE WHEN day IS NOT NULL THEN m.r END AS region,
           day AS delivery_day
    FROM (
        SELECT rid, m, CAST(try_strptime(m.d, '%Y/%m/%d') AS DATE) AS day
        FROM (
            SELECT rowid AS rid,
                   regexp_extract(s3_object,
                       '(?:^|/)AWSLogs/(?:o-[a-z0-9]{10,32}/)?([0-9]{12})/CloudTrail/([a-z0-9-]{4,32})/([0-9]{4}/[0-9]{2}/[0-9]{2})/[^/]+$',
                       ['a', 'r', 'd']) AS m
            FROM digest_log_files
        )
        WHERE m.a <> '' AND strpos(m.r, '-') > 0
    )
) p
WHERE digest_log_files.rowid = p.rid;

-- Log files a digest lists that were never read (deleted?), found by the
-- integrity pass; `rootaudit integrity` reports them as "missing".
CREATE TABLE integrity_unread (
    s3_bucket     VARCHAR,
    s3_object     VARCHAR NOT NULL,
    digest_source VARCHAR NOT NULL,
    account_id    VARCHAR,
    region        VARCHAR,
    delivery_day  DATE
);
INSERT INTO integrity_unread
SELECT DISTINCT l.s3_bucket, l.s3_object, l.digest_source, l.account_id, l.region, l.delivery_day
FROM digest_log_files l
WHERE NOT EXISTS (
    SELECT 1 FROM ingested_files f
    WHERE f.kind = 'log' AND substr(f.source, strpos(f.source, 'AWSLogs/')) = substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')));

-- One row per integrity pass. The pass commits slice by slice, so a pass
-- that stopped midway (out of disk, interrupted) leaves finished_at NULL and
-- `rootaudit integrity` says the results are incomplete.
-- through_run is the last run whose files and digests the pass took into
-- account: the next pass only redoes the slices that later runs touched.
CREATE TABLE integrity_passes (
    pass_id     BIGINT NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    slices      BIGINT,
    through_run BIGINT
);
