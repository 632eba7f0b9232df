-- management_accounts: accounts that issued AssumeRoot calls or flipped the
-- organization-level switches: the management or delegated-admin accounts.
SELECT DISTINCT issuer_account FROM assume_root_calls WHERE issuer_account IS NOT NULL
UNION
SELECT DISTINCT account_id FROM org_switches WHERE account_id IS NOT NULL
ORDER BY 1;
