-- Schema version 5: the checkpoint tables lose their primary keys.
--
-- DuckDB keeps a primary key's ART index in memory: at one row per log file
-- (and per hourly digest) it made an ingest's memory grow with the size of
-- the trail (217 MB at 50,000 files, 322 MB at 170,000). Uniqueness of
-- `source` is now kept by the loader, which deletes a file's old row in the
-- same transaction that inserts its new one (query/sql/commit_batch.sql).

CREATE TABLE ingested_files_v5 (
    source             VARCHAR NOT NULL,
    kind               VARCHAR NOT NULL,
    org_id             VARCHAR,
    account_id         VARCHAR,
    region             VARCHAR,
    delivery_day       DATE,
    size               BIGINT,
    etag               VARCHAR,
    uncompressed_bytes BIGINT,
    sha256             VARCHAR,
    records            BIGINT,
    candidates         BIGINT,
    kept               BIGINT,
    status             VARCHAR NOT NULL,
    reason             VARCHAR,
    run_id             BIGINT,
    ingested_at        TIMESTAMP NOT NULL,
    integrity          VARCHAR DEFAULT 'not-validated'
);
INSERT INTO ingested_files_v5 SELECT * FROM ingested_files;
DROP TABLE ingested_files;
ALTER TABLE ingested_files_v5 RENAME TO ingested_files;

CREATE TABLE digest_files_v5 (
    source                 VARCHAR NOT NULL,
    account_id             VARCHAR,
    region                 VARCHAR,
    digest_start           TIMESTAMP,
    digest_end             TIMESTAMP,
    digest_s3_bucket       VARCHAR,
    digest_s3_object       VARCHAR,
    sha256                 VARCHAR,
    previous_digest_object VARCHAR,
    previous_digest_hash   VARCHAR,
    public_key_fingerprint VARCHAR,
    signature              VARCHAR,
    signature_status       VARCHAR,
    chain_status           VARCHAR,
    log_files              BIGINT,
    checked_at             TIMESTAMP
);
INSERT INTO digest_files_v5 SELECT * FROM digest_files;
DROP TABLE digest_files;
ALTER TABLE digest_files_v5 RENAME TO digest_files;
