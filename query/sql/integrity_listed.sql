-- integrity_listed: each (key, hash) the digests of a slice across
-- accounts promise, and whether a digest whose signature verified is among
-- them (integrity_logs.sql goes on from here). A plain aggregate: lists of
-- hashes per key cost DuckDB several times the memory.
CREATE OR REPLACE TEMP TABLE integrity_listed AS
SELECT substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) AS k,
       l.hash_value                                         AS h,
       bool_or(d.signature_status = 'valid')                AS sig_ok
FROM digest_log_files l
JOIN digest_files d ON d.source = l.digest_source
WHERE integrity_in_slice(l.account_id, l.region, l.delivery_day, substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')))
GROUP BY 1, 2;
