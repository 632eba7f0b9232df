-- name: root-signins-without-mfa
-- description: Successful root console sign-ins that did not use MFA, newest first.
-- param: since TIMESTAMP default 365 days ago -- start of the window (inclusive, UTC)
-- param: until TIMESTAMP default now -- end of the window (exclusive, UTC)
-- param: account VARCHAR default '' -- only this account ID ('' for every account)
--
-- A ConsoleLogin with responseElements.ConsoleLogin = Success whose
-- additionalEventData.MFAUsed is not "Yes" (a missing value counts as no
-- MFA), exactly as `rootaudit inventory` counts signins_without_mfa.
SELECT
    event_time,
    recipient_account_id AS account_id,
    source_ip,
    user_agent,
    mfa_used,
    event_id
FROM human_root_activity
WHERE class = 'sign-in'
  AND event_name = 'ConsoleLogin'
  AND login_result = 'Success'
  AND mfa_used IS NOT TRUE
  AND event_time >= CAST($since AS TIMESTAMP)
  AND event_time < CAST($until AS TIMESTAMP)
  AND ($account = '' OR recipient_account_id = $account)
ORDER BY event_time DESC, event_id;
