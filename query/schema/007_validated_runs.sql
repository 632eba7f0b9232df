-- Schema version 7: runs say whether they validated.
--
-- A digest names its predecessor; when the predecessor is not in the
-- database the chain was reported broken ("gap"), even when its delivery
-- day was never read: the first digest of every account and region of a
-- windowed `ingest --validate` (the default window is a year) failed on an
-- untouched trail. The integrity pass now asks whether a validating run's
-- window covered the predecessor's day (integrity_chain.sql).
ALTER TABLE runs ADD COLUMN validated BOOLEAN;
-- Earlier runs: the command line says it.
UPDATE runs SET validated = command LIKE '%--validate%';
