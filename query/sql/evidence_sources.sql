-- evidence_sources: every object rootaudit listed, by kind and status, with
-- sizes and record counts: the object counts of an evidence pack's manifest.
-- No parameters (the whole database).
SELECT kind, status,
       count(*)                            AS objects,
       coalesce(sum(size), 0)              AS bytes,
       coalesce(sum(records), 0)           AS records,
       coalesce(sum(kept), 0)              AS kept
FROM ingested_files
GROUP BY kind, status
ORDER BY kind, status;
