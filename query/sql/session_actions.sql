-- session_actions for the sessions of one report: every linked action of
-- the AssumeRoot calls issued in the window. Parameters as sessions.sql
-- ($1 since, $2 until, $3 accounts, $4 issuer). Sessions come in the order
-- of sessions.sql, each session's actions in time order, so that the
-- report attaches them in one pass. Missing text comes back as '' (the
-- report shows it empty); error_code keeps its NULL.
SELECT a.session_event_id, a.event_time, coalesce(a.event_source, '') AS event_source,
       coalesce(a.event_name, '') AS event_name, coalesce(a.aws_region, '') AS aws_region, a.error_code,
       a.allowed, a.denied, a.after_expiry
FROM session_actions a
JOIN assume_root_calls s ON s.event_id = a.session_event_id
WHERE s.issued_at >= $1 AND s.issued_at < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), s.target_account))
  AND ($4 = '' OR position($4 IN coalesce(s.issuer_arn, '')) > 0)
ORDER BY s.issued_at, s.access_key_id NULLS FIRST, s.event_id, a.event_time, a.event_name, a.event_id;
