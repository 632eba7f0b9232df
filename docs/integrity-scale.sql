-- A database for timing a full integrity pass at scale (docs/performance.md, "The
-- integrity pass at scale"): 100 accounts x 17 regions x 365 days x 10 log files
-- (6.2 million), each listed with its hash by a daily digest (620,500 digests).
-- Run against a rootaudit database (any ingest first creates the schema):
--   rootaudit sql --write --db big.duckdb < docs/integrity-scale.sql
-- (from standard input: as an argument, the leading "--" would be read as a flag),
-- then time query.DB.UpdateIntegrity(ctx, 0) on it. For rows stored day by day (as
-- a year of nightly ingests stores them) put day first in each ORDER BY:
--   sed -e 's/ORDER BY acct, region, day/ORDER BY day, acct, region/' docs/integrity-scale.sql
CREATE TEMP TABLE k AS
SELECT lpad(CAST(200000000000 + a AS VARCHAR), 12, '0') AS acct, r AS region, DATE '2025-11-01' + CAST(d AS INTEGER) AS day, n
FROM range(100) t1(a),
     (SELECT unnest(['us-east-1','us-east-2','us-west-1','us-west-2','eu-west-1','eu-west-2','eu-west-3','eu-central-1','eu-north-1','ap-south-1','ap-northeast-1','ap-northeast-2','ap-southeast-1','ap-southeast-2','ca-central-1','sa-east-1','ap-northeast-3']) AS r) t2,
     range(365) t3(d), range(10) t4(n);
INSERT INTO ingested_files (source, kind, org_id, account_id, region, delivery_day, size, etag, uncompressed_bytes, sha256, records, candidates, kept, status, reason, run_id, ingested_at, integrity)
SELECT '/data/AWSLogs/o-x/' || acct || '/CloudTrail/' || region || '/' || strftime(day, '%Y/%m/%d') || '/' || acct || '_CloudTrail_' || region || '_' || strftime(day, '%Y%m%d') || 'T' || lpad(CAST(n AS VARCHAR), 2, '0') || '00Z_' || n || '.json.gz',
       'log', 'o-x', acct, region, day, 1000, 'e', 27000, md5(acct || region || CAST(day AS VARCHAR) || n), 16, 0, 0, 'ok', NULL, 1, now(), 'not-validated'
FROM k ORDER BY acct, region, day, n;
INSERT INTO digest_files (source, account_id, region, digest_start, digest_end, digest_s3_bucket, digest_s3_object, sha256, previous_digest_object, previous_digest_hash, public_key_fingerprint, signature, signature_status, chain_status, log_files, checked_at)
SELECT '/data/AWSLogs/o-x/' || acct || '/CloudTrail-Digest/' || region || '/' || strftime(day, '%Y/%m/%d') || '/' || acct || '_CloudTrail-Digest_' || region || '_' || strftime(day, '%Y%m%d') || 'T2300Z.json.gz',
       acct, region, CAST(day AS TIMESTAMP), CAST(day AS TIMESTAMP) + INTERVAL 23 HOUR, 'b',
       'AWSLogs/o-x/' || acct || '/CloudTrail-Digest/' || region || '/' || strftime(day, '%Y/%m/%d') || '/' || acct || '_CloudTrail-Digest_' || region || '_' || strftime(day, '%Y%m%d') || 'T2300Z.json.gz',
       md5('d' || acct || region || CAST(day AS VARCHAR)),
       CASE WHEN day > DATE '2025-11-01' THEN 'AWSLogs/o-x/' || acct || '/CloudTrail-Digest/' || region || '/' || strftime(day - 1, '%Y/%m/%d') || '/' || acct || '_CloudTrail-Digest_' || region || '_' || strftime(day - 1, '%Y%m%d') || 'T2300Z.json.gz' END,
       CASE WHEN day > DATE '2025-11-01' THEN md5('d' || acct || region || CAST(day - 1 AS VARCHAR)) END,
       'fp', 'sig', 'valid', NULL, 10, now()
FROM (SELECT DISTINCT acct, region, day FROM k) ORDER BY acct, region, day;
INSERT INTO digest_log_files (digest_source, s3_bucket, s3_object, hash_value, oldest_event, newest_event, account_id, region, delivery_day)
SELECT '/data/AWSLogs/o-x/' || acct || '/CloudTrail-Digest/' || region || '/' || strftime(day, '%Y/%m/%d') || '/' || acct || '_CloudTrail-Digest_' || region || '_' || strftime(day, '%Y%m%d') || 'T2300Z.json.gz',
       'b', 'AWSLogs/o-x/' || acct || '/CloudTrail/' || region || '/' || strftime(day, '%Y/%m/%d') || '/' || acct || '_CloudTrail_' || region || '_' || strftime(day, '%Y%m%d') || 'T' || lpad(CAST(n AS VARCHAR), 2, '0') || '00Z_' || n || '.json.gz',
       md5(acct || region || CAST(day AS VARCHAR) || n), NULL, NULL, acct, region, day
FROM k ORDER BY acct, region, day, n;
