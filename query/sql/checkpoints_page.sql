-- checkpoints_page: one page of the checkpoints stored by earlier runs, by
-- rowid, for the delivery days a run can list (a file with no delivery
-- day always). Each file comes back as hashes, not strings: a run over a
-- year of an organization's trail loads tens of millions of rows, and the
-- paths alone would be gigabytes (query/checkpoints.go).
--
--   $1, $2  rowid range [lo, hi)
--   $3, $4  first and last delivery day (DATE as text)
--   $5      the run validates: a log or digest read without hashing is
--           not done, nor a digest that did not parse
--   $6      one source only (a file outside the days loaded), or NULL
SELECT md5_number_upper(source)             AS src,
       md5_number_lower(coalesce(etag, '')) AS etag,
       status <> 'failed'
         AND (NOT CAST($5 AS BOOLEAN)
              OR kind NOT IN ('log', 'digest')
              OR (sha256 IS NOT NULL AND (kind = 'log' OR status = 'ok'))) AS done
FROM ingested_files
WHERE rowid >= $1 AND rowid < $2
  AND (delivery_day IS NULL OR delivery_day BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE))
  AND (CAST($6 AS VARCHAR) IS NULL OR source = $6);
