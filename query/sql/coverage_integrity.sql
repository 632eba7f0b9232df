-- coverage_integrity: the kept events of the window (event time in
-- [since, until), UTC) by the integrity status of the log file their stored
-- copy came from ('no-file' when the event has no ingested_files row, e.g.
-- a LookupEvents import). human_events counts the human root use among them
-- (root_activity classes 3, 5 and 6). Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated account filter on recipient_account_id ('' = all)
SELECT coalesce(f.integrity, 'no-file')            AS integrity,
       count(*)                                     AS events,
       count(*) FILTER (r.class_no IN (3, 5, 6))    AS human_events
FROM events e
LEFT JOIN ingested_files f ON f.source = e.source_file
LEFT JOIN root_activity r ON r.event_id = e.event_id
WHERE e.event_time >= $1 AND e.event_time < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), e.recipient_account_id))
GROUP BY 1
ORDER BY 1;
