-- Schema version 3: log-file integrity validation (digest files, issue 5).

-- Per log file: the outcome of validating it against the digest files.
--   valid             its SHA-256 matches the hashValue in a digest whose signature verified
--   hash-mismatch     a digest lists it with another hash (tampered or corrupt)
--   not-in-digest     digests cover its account/region/period but none lists it
--   digest-missing    no digest file covers its account/region/period
--   signature-invalid the digest listing it failed signature verification
--   not-validated     ingest ran without --validate
ALTER TABLE ingested_files ADD COLUMN integrity VARCHAR DEFAULT 'not-validated';

-- One row per digest file read with --validate.
CREATE TABLE digest_files (
    source                 VARCHAR PRIMARY KEY,
    account_id             VARCHAR,
    region                 VARCHAR,
    digest_start           TIMESTAMP,
    digest_end             TIMESTAMP,
    digest_s3_bucket       VARCHAR,
    digest_s3_object       VARCHAR,
    sha256                 VARCHAR,   -- hex SHA-256 of the uncompressed digest
    previous_digest_object VARCHAR,
    previous_digest_hash   VARCHAR,
    public_key_fingerprint VARCHAR,
    signature              VARCHAR,   -- hex, from x-amz-meta-signature or a sidecar
    signature_status       VARCHAR,   -- valid, invalid, missing, no-key, not-checked
    chain_status           VARCHAR,   -- ok, first, gap (previous digest not found), hash-mismatch
    log_files              BIGINT,
    checked_at             TIMESTAMP
);

-- The log files each digest lists, with the hash it promises.
CREATE TABLE digest_log_files (
    digest_source VARCHAR NOT NULL,
    s3_bucket     VARCHAR,
    s3_object     VARCHAR NOT NULL,
    hash_value    VARCHAR,
    oldest_event  TIMESTAMP,
    newest_event  TIMESTAMP
);
