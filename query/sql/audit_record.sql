-- audit_record: stores one account's credential audit (a rerun of the same
-- account in the same run replaces it). The lists arrive as JSON arrays
-- (NULL when the read failed) and are stored as LISTs of STRUCTs.
-- Parameters:
--   $1 audit_run_id, $2 account_id, $3 account_name, $4 checked_at,
--   $5 assume_status, $6 session_key_id, $7 session_expires,
--   $8 password_present, $9 password_created_at,
--   $10 access keys JSON [{"access_key_id","status","created_at"}],
--   $11 MFA devices JSON [{"serial_number","enabled_at"}],
--   $12 signing certificates JSON [{"certificate_id","status","uploaded_at"}],
--   $13 state, $14 present JSON ["password", …], $15 error
INSERT OR REPLACE INTO credential_audits
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9,
       from_json($10, '[{"access_key_id":"VARCHAR","status":"VARCHAR","created_at":"TIMESTAMP"}]'),
       from_json($11, '[{"serial_number":"VARCHAR","enabled_at":"TIMESTAMP"}]'),
       from_json($12, '[{"certificate_id":"VARCHAR","status":"VARCHAR","uploaded_at":"TIMESTAMP"}]'),
       $13, from_json($14, '["VARCHAR"]'), $15;
