-- audit_run_finish: closes an audit_runs row with its status and the
-- counts of its stored results. Parameters:
--   $1 audit_run_id, $2 finished_at (TIMESTAMP UTC), $3 status
UPDATE audit_runs SET
    finished_at = $2,
    status      = $3,
    audited     = (SELECT count(*) FROM credential_audits a WHERE a.audit_run_id = $1),
    present     = (SELECT count(*) FROM credential_audits a WHERE a.audit_run_id = $1 AND a.state = 'root-credentials-present'),
    unknown     = (SELECT count(*) FROM credential_audits a WHERE a.audit_run_id = $1 AND a.state = 'unknown')
WHERE audit_run_id = $1;
