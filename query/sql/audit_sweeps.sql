-- audit_sweeps: the AssumeRoot calls in the window that `rootaudit verify`
-- made, by the event_id of the call. Parameters: $1 since, $2 until
-- (TIMESTAMP UTC, until exclusive).
-- An issued session is one when its access key ID is the session_key_id
-- of a credential audit of the same account. A failed call (no key) is one
-- when it asked for IAMAuditRootUserCredentials for an account whose audit
-- recorded a failed AssumeRoot within two minutes of it.
SELECT c.event_id
FROM assume_root_calls c
WHERE c.issued_at >= $1 AND c.issued_at < $2
  AND EXISTS (
      SELECT 1 FROM credential_audits a
      WHERE a.account_id = c.target_account
        AND ((c.access_key_id IS NOT NULL AND a.session_key_id = c.access_key_id)
          OR (c.access_key_id IS NULL AND a.session_key_id IS NULL
              AND c.task_policy = 'IAMAuditRootUserCredentials'
              AND c.issued_at BETWEEN a.checked_at - INTERVAL 2 MINUTE AND a.checked_at + INTERVAL 2 MINUTE)));
