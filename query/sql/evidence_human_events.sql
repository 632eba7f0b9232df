-- evidence_human_events: every human root event of the window (root_activity
-- classes 3 sign-in, 5 long-term-key, 6 console), oldest first, with the
-- attacker-influenced details an investigator needs: source IP, user agent
-- and the request parameters as logged (JSON text; `raw` is read both as a
-- JSON object and as a JSON string holding the record). Parameters:
--   $1 since, $2 until (TIMESTAMP UTC, until exclusive)
--   $3 comma-separated account filter ('' = all)
SELECT event_id, event_time, recipient_account_id, class, event_source, event_name, aws_region,
       login_result, error_code, mfa_used, mfa_authenticated, access_key_id, source_ip, user_agent,
       CAST(json_extract(CASE json_type(raw) WHEN 'VARCHAR' THEN CAST(raw ->> '$' AS JSON) ELSE raw END, '$.requestParameters') AS VARCHAR) AS request_parameters,
       source_file
FROM human_root_activity
WHERE event_time >= $1 AND event_time < $2
  AND ($3 = '' OR list_contains(string_split($3, ','), recipient_account_id))
ORDER BY event_time, event_id;
