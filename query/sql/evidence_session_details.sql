-- evidence_session_details: the attacker-influenced details of each linked
-- session action (source IP, user agent, request parameters as JSON text),
-- (`raw` is read both as a JSON object and as a JSON string holding the
-- record), in exactly the order and for exactly the sessions of session_actions.sql,
-- so that row i of a session here is action i of that session there.
-- Parameters as sessions.sql ($1 since, $2 until, $3 accounts, $4 issuer).
SELECT a.session_event_id, a.event_time, a.event_name, e.source_ip, e.user_agent,
       CAST(json_extract(CASE json_type(e.raw) WHEN 'VARCHAR' THEN CAST(e.raw ->> '$' AS JSON) ELSE e.raw END, '$.requestParameters') AS VARCHAR) AS request_parameters
FROM session_actions a
JOIN assume_root_calls s ON s.event_id = a.session_event_id
JOIN events e ON e.event_id = a.event_id
WHERE s.issued_at >= $1 AND s.issued_at < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), s.target_account))
  AND ($4 = '' OR position($4 IN coalesce(s.issuer_arn, '')) > 0)
ORDER BY a.session_event_id, a.event_time, a.event_name, a.event_id;
