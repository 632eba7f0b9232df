-- name: activity-around
-- description: Every stored event (root, AssumeRoot, organization switches) within some minutes of a given time, in time order.
-- param: at TIMESTAMP required -- the time to look around (UTC unless it carries an offset)
-- param: minutes INTEGER default 30 -- how far to look either side
-- param: account VARCHAR default '' -- only events attributed to or targeting this account ('' for every account)
--
-- For "what else happened when…": the rows are all the kept records, with
-- the root_activity class where the record is a root-principal event.
SELECT
    e.event_time,
    e.recipient_account_id AS account_id,
    coalesce(r.class, CASE WHEN e.event_name = 'AssumeRoot' THEN 'assume-root' ELSE 'org-switch' END) AS kind,
    e.identity_type,
    e.identity_arn,
    e.event_source,
    e.event_name,
    e.aws_region,
    e.error_code,
    e.source_ip,
    e.access_key_id,
    e.target_account,
    e.event_id
FROM events e
LEFT JOIN root_activity r USING (event_id)
WHERE e.event_time >= CAST($at AS TIMESTAMP) - to_minutes(CAST($minutes AS BIGINT))
  AND e.event_time <= CAST($at AS TIMESTAMP) + to_minutes(CAST($minutes AS BIGINT))
  AND ($account = '' OR e.recipient_account_id = $account OR e.target_account = $account)
ORDER BY e.event_time, e.event_id;
