-- first_seen: the earliest delivery day of a log file or kept event per
-- account, the "age" used when --accounts gives no JoinedTimestamp.
SELECT account_id, min(t) AS first_seen FROM (
    SELECT account_id, CAST(min(delivery_day) AS TIMESTAMP) AS t FROM ingested_files
    WHERE kind = 'log' AND status = 'ok' AND account_id IS NOT NULL GROUP BY account_id
    UNION ALL
    SELECT recipient_account_id, min(event_time) FROM events WHERE recipient_account_id IS NOT NULL GROUP BY recipient_account_id
) GROUP BY account_id ORDER BY account_id;
