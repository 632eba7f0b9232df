-- integrity_chain_days: digests per end day, of the pairs an incremental
-- pass redoes, to cut strips of days (query/integrity.go); then one row
-- with a NULL day for digests whose account, region or end is unknown.
SELECT CASE WHEN account_id IS NOT NULL AND region IS NOT NULL THEN CAST(digest_end AS DATE) END AS day,
       count(*) AS n
FROM digest_files
WHERE integrity_in_chain_units(account_id, region)
GROUP BY 1
ORDER BY 1 NULLS LAST;
