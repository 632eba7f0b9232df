-- name: root-use-first-last
-- description: Per account, the first and last root use of every kind in the whole database, most recent human use first.
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- Looks at every stored event, whatever its time. Human use is the
-- sign-in, console and long-term-key classes of root_activity; session
-- actions and service events are reported apart. Accounts without any
-- root-principal event do not appear (see accounts-without-coverage).
SELECT
    recipient_account_id AS account_id,
    min(event_time) FILTER (class_no IN (3, 5, 6)) AS first_human_use,
    max(event_time) FILTER (class_no IN (3, 5, 6)) AS last_human_use,
    count(*) FILTER (class_no IN (3, 5, 6)) AS human_events,
    max(event_time) FILTER (event_name = 'ConsoleLogin' AND login_result = 'Success') AS last_successful_signin,
    max(event_time) FILTER (class = 'long-term-key') AS last_access_key_use,
    max(event_time) FILTER (class = 'console') AS last_console_call,
    arg_max(source_ip, event_time) FILTER (class_no IN (3, 5, 6)) AS last_human_source_ip,
    min(event_time) FILTER (class = 'privileged-session') AS first_session_action,
    max(event_time) FILTER (class = 'privileged-session') AS last_session_action,
    max(event_time) FILTER (class IN ('service-event', 'service-on-behalf')) AS last_service_event
FROM root_activity
WHERE ($account = '' OR recipient_account_id = $account)
GROUP BY recipient_account_id
ORDER BY last_human_use DESC NULLS LAST, account_id;
