-- integrity_listed_strips: integrity_listed.sql for a slice within a strip
-- of days. The slice's listings are taken first, on their own: joined in
-- one statement, DuckDB built its hash table on every digest instead and
-- read the whole digest table for each slice (a third more time per slice
-- on rows stored day by day); from a table of known size it builds on the
-- listings and reads only the digests they name (the join's key range).
-- Across accounts the one statement is planned well, and the extra table
-- costs 10-15 ms a slice.
CREATE OR REPLACE TEMP TABLE integrity_slice_listings AS
SELECT substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')) AS k, l.hash_value AS h, l.digest_source
FROM digest_log_files l
WHERE integrity_in_slice(l.account_id, l.region, l.delivery_day, substr(l.s3_object, strpos(l.s3_object, 'AWSLogs/')));

CREATE OR REPLACE TEMP TABLE integrity_listed AS
SELECT l.k, l.h, bool_or(d.signature_status = 'valid') AS sig_ok
FROM integrity_slice_listings l
JOIN digest_files d ON d.source = l.digest_source
GROUP BY 1, 2;

DROP TABLE integrity_slice_listings;
