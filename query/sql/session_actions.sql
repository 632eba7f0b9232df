-- session_actions for the sessions of one report: every linked action of
-- the AssumeRoot calls issued in the window, in time order. Parameters as
-- sessions.sql ($1 since, $2 until, $3 accounts, $4 issuer).
SELECT a.session_event_id, a.event_time, a.event_source, a.event_name, a.aws_region, a.error_code,
       a.allowed, a.denied, a.after_expiry
FROM session_actions a
JOIN assume_root_calls s ON s.event_id = a.session_event_id
WHERE s.issued_at >= $1 AND s.issued_at < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), s.target_account))
  AND ($4 = '' OR position($4 IN coalesce(s.issuer_arn, '')) > 0)
ORDER BY a.session_event_id, a.event_time, a.event_name, a.event_id;
