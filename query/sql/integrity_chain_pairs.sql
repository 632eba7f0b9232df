-- integrity_chain_pairs: digests per (account, region), in slice order;
-- then one row with a NULL account for digests whose account or region is
-- unknown.
SELECT CASE WHEN region IS NOT NULL THEN account_id END AS account_id,
       CASE WHEN account_id IS NOT NULL THEN region END AS region,
       count(*)                                        AS n
FROM digest_files
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2;
