-- audit_results: per-account credential audits, root-credentials-present
-- first, then unknown, then no-root-credentials, each by account ID.
-- Parameters:
--   $1 audit_run_id, or 0 for each account's latest audit across all runs
--   $2 comma-separated account filter ('' = all)
-- The lists come back as JSON with RFC 3339 UTC times.
SELECT audit_run_id, account_id, coalesce(account_name, ''), checked_at, assume_status,
       coalesce(session_key_id, ''), session_expires, password_present, password_created_at,
       CAST(to_json(list_transform(access_keys, k -> {
           'access_key_id': k.access_key_id, 'status': k.status,
           'created_at': strftime(k.created_at, '%Y-%m-%dT%H:%M:%S.%fZ')})) AS VARCHAR),
       CAST(to_json(list_transform(mfa_devices, d -> {
           'serial_number': d.serial_number,
           'enabled_at': strftime(d.enabled_at, '%Y-%m-%dT%H:%M:%S.%fZ')})) AS VARCHAR),
       CAST(to_json(list_transform(signing_certificates, c -> {
           'certificate_id': c.certificate_id, 'status': c.status,
           'uploaded_at': strftime(c.uploaded_at, '%Y-%m-%dT%H:%M:%S.%fZ')})) AS VARCHAR),
       state, CAST(to_json(present) AS VARCHAR), coalesce(error, '')
FROM credential_audits
WHERE ($1 = 0 OR audit_run_id = $1)
  AND ($2 = '' OR list_contains(string_split($2, ','), account_id))
QUALIFY $1 <> 0 OR row_number() OVER (PARTITION BY account_id ORDER BY checked_at DESC, audit_run_id DESC) = 1
ORDER BY CASE state WHEN 'root-credentials-present' THEN 0 WHEN 'unknown' THEN 1 ELSE 2 END, account_id;
