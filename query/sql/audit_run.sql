-- audit_run: one audit_runs row. Parameters: $1 audit_run_id, or 0 for the
-- latest run.
SELECT audit_run_id, started_at, finished_at, coalesce(rootaudit_version, ''), coalesce(command, ''),
       coalesce(region, ''), coalesce(management_account, ''), coalesce(account_source, ''),
       coalesce(accounts, 0), coalesce(audited, 0), coalesce(present, 0), coalesce(unknown, 0), status
FROM audit_runs
WHERE $1 = 0 OR audit_run_id = $1
ORDER BY audit_run_id DESC
LIMIT 1;
