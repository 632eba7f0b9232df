-- org_switches: the organization-level switches before $1, oldest first.
SELECT event_time, event_name, action, account_id, coalesce(identity_arn, ''), error_code
FROM org_switches
WHERE event_time < $1
ORDER BY event_time, event_name;
