-- name: sessions-by-issuer
-- description: AssumeRoot calls per issuer (who opened privileged root sessions), with targets, task policies and what the sessions did.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC), on the AssumeRoot call time
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: issuer VARCHAR default '' -- only issuer ARNs containing this text ('' for every issuer)
--
-- failed counts calls that issued no credentials (AccessDenied, …);
-- actions, denied_actions and outside_task count the member-account events
-- made with the issued keys (view session_actions), whenever they happened.
WITH calls AS (
    SELECT *
    FROM assume_root_calls
    WHERE issued_at >= CAST($since AS TIMESTAMP)
      AND issued_at < CAST($until AS TIMESTAMP)
      AND ($issuer = '' OR contains(issuer_arn, $issuer))
),
acts AS (
    SELECT session_event_id,
           count(*) AS actions,
           count(*) FILTER (denied) AS denied_actions,
           count(*) FILTER (NOT allowed) AS outside_task
    FROM session_actions
    GROUP BY session_event_id
)
SELECT
    c.issuer_arn,
    c.issuer_account,
    count(*) AS calls,
    count(*) FILTER (c.status = 'issued') AS issued,
    count(*) FILTER (c.status <> 'issued') AS failed,
    list(DISTINCT c.target_account ORDER BY c.target_account) FILTER (c.target_account IS NOT NULL) AS target_accounts,
    list(DISTINCT c.task_policy ORDER BY c.task_policy) FILTER (c.task_policy IS NOT NULL) AS task_policies,
    CAST(coalesce(sum(a.actions), 0) AS BIGINT) AS actions,
    CAST(coalesce(sum(a.denied_actions), 0) AS BIGINT) AS denied_actions,
    CAST(coalesce(sum(a.outside_task), 0) AS BIGINT) AS outside_task,
    min(c.issued_at) AS first_call,
    max(c.issued_at) AS last_call,
    list(DISTINCT c.source_ip ORDER BY c.source_ip) FILTER (c.source_ip IS NOT NULL) AS source_ips
FROM calls c
LEFT JOIN acts a ON a.session_event_id = c.event_id
GROUP BY c.issuer_arn, c.issuer_account
ORDER BY calls DESC, c.issuer_arn;
