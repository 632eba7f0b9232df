-- status: per account, root-credential state as of $1 (TIMESTAMP UTC,
-- exclusive), from the credential_events timeline. Parameters:
--   $1 as-of time   $2 comma-separated account filter ('' = all)
--   $3 NULL, or the start of a window (TIMESTAMP UTC, inclusive): human use
--      after removal is then counted only from there (`check --since`)
WITH ce AS (
    SELECT * FROM credential_events WHERE event_time < $1
),
changes AS (
    SELECT account_id,
           arg_max(kind, event_time)       AS kind,
           arg_max(event_name, event_time) AS event_name,
           max(event_time)                 AS at
    FROM ce WHERE kind IN ('removed', 're-created')
    GROUP BY account_id
),
last_recreate AS (
    -- Only a sanctioned re-creation (an IAMCreateRootUserPassword session)
    -- ends a removed stretch; a key created by human root after removal is
    -- itself human use after removal and must stay visible as such.
    SELECT account_id, max(event_time) AS at FROM ce
    WHERE kind = 're-created' AND task_policy IS NOT NULL GROUP BY account_id
),
removed AS (
    -- Start of the current removed stretch: the first removal after the
    -- last sanctioned re-creation.
    SELECT ce.account_id, min(ce.event_time) AS removed_at
    FROM ce LEFT JOIN last_recreate r USING (account_id)
    WHERE ce.kind = 'removed' AND (r.at IS NULL OR ce.event_time > r.at)
    GROUP BY ce.account_id
),
audits AS (
    SELECT account_id, max(event_time) AS at, count(*) AS n FROM ce WHERE kind = 'audited' GROUP BY account_id
),
human AS (
    SELECT * FROM human_root_activity
    WHERE event_time < $1 AND NOT (event_name = 'ConsoleLogin' AND login_result = 'Failure')
),
accounts AS (
    SELECT account_id FROM ingested_files WHERE kind = 'log' AND account_id IS NOT NULL
    UNION SELECT recipient_account_id FROM events WHERE recipient_account_id IS NOT NULL
    UNION SELECT target_account FROM assume_root_calls WHERE target_account IS NOT NULL
)
SELECT
    a.account_id,
    CASE WHEN c.kind = 'removed' THEN 'removed'
         WHEN c.kind = 're-created' THEN 're-created'
         ELSE 'not-removed' END                                   AS credential_state,
    c.event_name                                                   AS evidence_event,
    c.at                                                           AS evidence_time,
    r.removed_at                                                   AS removed_at,
    au.at                                                          AS last_audit,
    (SELECT max(h.event_time) FROM human h WHERE h.recipient_account_id = a.account_id) AS last_human_use,
    (SELECT count(*) FROM human h WHERE h.recipient_account_id = a.account_id
        AND h.event_time > r.removed_at AND ($3 IS NULL OR h.event_time >= $3)) AS human_use_after_removal,
    (SELECT max(h.event_time) FROM human h WHERE h.recipient_account_id = a.account_id
        AND h.event_time > r.removed_at AND ($3 IS NULL OR h.event_time >= $3)) AS last_human_use_after_removal,
    (SELECT count(*) FROM assume_root_calls s WHERE s.target_account = a.account_id AND s.status = 'issued'
        AND s.issued_at < $1 AND (r.removed_at IS NULL OR s.issued_at >= r.removed_at)) AS sessions_since
FROM (SELECT DISTINCT account_id FROM accounts) a
LEFT JOIN changes c USING (account_id)
LEFT JOIN removed r USING (account_id)
LEFT JOIN audits au USING (account_id)
WHERE $2 = '' OR list_contains(string_split($2, ','), a.account_id)
ORDER BY a.account_id;
