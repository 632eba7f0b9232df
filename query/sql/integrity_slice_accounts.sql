-- integrity_slice_accounts: which log files and listings belong to the
-- slice the integrity pass is working on, when the rows are stored roughly
-- account by account (one ingest of a year: S3 lists keys account by
-- account). query/integrity.go sets the variables before each slice.
-- A slice is a range of (account, region, delivery day), lower bound
-- excluded and upper bound included, so that consecutive slices cover every
-- value exactly once; or, with slice_null, one of null_buckets shares (by
-- a hash of the key k the rows are matched on) of the rows where any of
-- the three is unknown (files outside CloudTrail's layout); or, with
-- slice_all, everything (a database small enough for one slice). An
-- incremental pass (units_only) keeps, of each slice, the rows of the
-- units it redoes (integrity_macros.sql). The account leads the
-- comparison (integrity_in_range), so that each slice reads only the row
-- groups of its accounts.
CREATE OR REPLACE TEMP MACRO integrity_in_slice(a, r, d, k) AS
    CASE WHEN getvariable('slice_null') THEN (a IS NULL OR r IS NULL OR d IS NULL)
        AND hash(k) % getvariable('null_buckets') = getvariable('null_bucket')
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL AND d IS NOT NULL
              AND integrity_in_range(a, r, d,
                  getvariable('lo_a'), getvariable('lo_r'), getvariable('lo_d'),
                  getvariable('hi_a'), getvariable('hi_r'), getvariable('hi_d'))))
        AND integrity_in_units(a, r, d)
    END;

-- The digests whose chain the slice checks, and those among which their
-- previous digests are looked up: the slice's (account, region) pairs
-- (integrity_macros.sql) for both. e is the digest's end.
CREATE OR REPLACE TEMP MACRO integrity_in_chain(a, r, e, k) AS integrity_in_pairs(a, r, k);
CREATE OR REPLACE TEMP MACRO integrity_prev_near(a, r, e, k) AS integrity_in_pairs(a, r, k);
