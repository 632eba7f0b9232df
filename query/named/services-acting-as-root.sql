-- name: services-acting-as-root
-- description: AWS services acting as the root user (service-generated events and calls made on root's behalf), per account, service and event.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- Classes service-event (eventType AwsServiceEvent) and service-on-behalf
-- (userIdentity.invokedBy set to a service) of root_activity; service is
-- invokedBy, or the event source for service events. Not human root
-- use, but worth knowing before removing root credentials (a service
-- integration that runs as root breaks when they go).
SELECT
    recipient_account_id AS account_id,
    class,
    CASE WHEN class = 'service-on-behalf' THEN invoked_by ELSE event_source END AS service,
    event_source,
    event_name,
    count(*) AS events,
    count(*) FILTER (error_code IS NOT NULL) AS failed,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    list(DISTINCT aws_region ORDER BY aws_region) AS regions
FROM root_activity
WHERE class IN ('service-event', 'service-on-behalf')
  AND event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
  AND ($account = '' OR recipient_account_id = $account)
GROUP BY ALL
ORDER BY account_id, class, service, event_source, event_name;
