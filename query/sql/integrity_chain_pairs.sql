-- integrity_chain_pairs: digests per (account, region), in slice order, of
-- the pairs an incremental pass redoes and, with strips, ending in the
-- strip's days;
-- then one row with a NULL account for digests whose account or region is
-- unknown.
SELECT CASE WHEN region IS NOT NULL THEN account_id END AS account_id,
       CASE WHEN account_id IS NOT NULL THEN region END AS region,
       count(*)                                        AS n
FROM digest_files
WHERE integrity_in_chain_units(account_id, region) AND integrity_in_end_strip(digest_end)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2;
