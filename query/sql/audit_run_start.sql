-- audit_run_start: opens the audit_runs row of a `rootaudit verify` run and
-- returns its audit_run_id (one more than the largest so far). Parameters:
--   $1 started_at (TIMESTAMP UTC), $2 rootaudit_version, $3 command,
--   $4 region, $5 management_account, $6 account_source, $7 accounts
INSERT INTO audit_runs (audit_run_id, started_at, rootaudit_version, command, region, management_account,
                        account_source, accounts, audited, present, unknown, status)
SELECT coalesce(max(audit_run_id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, 0, 0, 0, 'running'
FROM audit_runs
RETURNING audit_run_id;
