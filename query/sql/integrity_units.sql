-- integrity_units: what an incremental integrity pass redoes. Everything a
-- pass derives for a log file (its status, whether it is unread) depends
-- only on the files and listings of its (account, region, delivery day),
-- the signatures of the digests listing it, and the digests that end on
-- that day or the day before or after (not-in-digest). So after runs later
-- than since_run, only these units can change: the units of their log
-- files, of the files their digests list, and around their digests' ends;
-- and for the digest chain, the (account, region) of their digests. With
-- units_only false (a full pass) both tables stay empty and unused.

CREATE OR REPLACE TEMP TABLE integrity_new_digests AS
SELECT source FROM ingested_files
WHERE getvariable('units_only') AND kind = 'digest' AND run_id > getvariable('since_run');

-- The columns have names of their own: the macros that look rows up here
-- are called with bare column names, which inside a subquery on a table
-- with the same column names would mean that table's columns.
CREATE OR REPLACE TEMP TABLE integrity_units AS
SELECT DISTINCT account_id AS unit_account, region AS unit_region, delivery_day AS unit_day
FROM (
    SELECT account_id, region, delivery_day FROM ingested_files
    WHERE getvariable('units_only') AND kind = 'log' AND run_id > getvariable('since_run')
    UNION ALL
    SELECT l.account_id, l.region, l.delivery_day
    FROM digest_log_files l SEMI JOIN integrity_new_digests n ON n.source = l.digest_source
    UNION ALL
    SELECT d.account_id, d.region, CAST(d.digest_end AS DATE) + CAST(t.o AS INTEGER)
    FROM (SELECT * FROM digest_files d SEMI JOIN integrity_new_digests n ON n.source = d.source) d
    CROSS JOIN range(-1, 2) t(o)
);

CREATE OR REPLACE TEMP TABLE integrity_chain_units AS
SELECT DISTINCT d.account_id AS unit_account, d.region AS unit_region
FROM digest_files d SEMI JOIN integrity_new_digests n ON n.source = d.source;

DROP TABLE integrity_new_digests;
