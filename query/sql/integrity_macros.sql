-- integrity_macros: which rows belong to the slice the integrity pass is
-- working on (query/integrity.go sets the variables before each slice).
-- A slice is a range of (account, region, delivery day), lower bound
-- excluded and upper bound included, so that consecutive slices cover every
-- value exactly once; or, with slice_null, one of null_buckets shares (by
-- a hash of the key k the rows are matched on) of the rows where any of
-- the three is unknown (files outside CloudTrail's layout); or, with
-- slice_all, everything (a database small enough for one slice). An
-- incremental pass (units_only) keeps, of each slice, the rows of the units
-- it redoes. The comparisons are spelled out column by column: DuckDB turns a pair of row comparisons
-- into a BETWEEN, which it does not support on rows. The bounds on the
-- account alone are redundant, but simple enough for DuckDB to apply while
-- it scans (zone maps, and no other column read for rows outside the
-- slice): rows are stored roughly in account order.
-- Whether a row is in a unit an incremental pass redoes
-- (integrity_units.sql); rows with an unknown account, region or day are
-- always redone (they are few, and have no unit).
CREATE OR REPLACE TEMP MACRO integrity_in_units(a, r, d) AS
    NOT getvariable('units_only') OR a IS NULL OR r IS NULL OR d IS NULL
    OR EXISTS (SELECT 1 FROM integrity_units WHERE unit_account = a AND unit_region = r AND unit_day = d);

CREATE OR REPLACE TEMP MACRO integrity_in_chain_units(a, r) AS
    NOT getvariable('units_only') OR a IS NULL OR r IS NULL
    OR EXISTS (SELECT 1 FROM integrity_chain_units WHERE unit_account = a AND unit_region = r);

CREATE OR REPLACE TEMP MACRO integrity_in_slice(a, r, d, k) AS
    CASE WHEN getvariable('slice_null') THEN (a IS NULL OR r IS NULL OR d IS NULL)
        AND hash(k) % getvariable('null_buckets') = getvariable('null_bucket')
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL AND d IS NOT NULL
              AND (getvariable('lo_open') OR a >= getvariable('lo_a'))
              AND (getvariable('hi_open') OR a <= getvariable('hi_a'))
              AND (getvariable('lo_open') OR a > getvariable('lo_a')
                   OR (a = getvariable('lo_a') AND (r > getvariable('lo_r')
                       OR (r = getvariable('lo_r') AND d > getvariable('lo_d')))))
              AND (getvariable('hi_open') OR a < getvariable('hi_a')
                   OR (a = getvariable('hi_a') AND (r < getvariable('hi_r')
                       OR (r = getvariable('hi_r') AND d <= getvariable('hi_d')))))))
        AND integrity_in_units(a, r, d)
    END;

-- The same on (account, region) alone, for the digest chain: a digest's
-- previous digest is always of the same account and region. k is the
-- digest's own key for a digest looked up as a previous one, the key of
-- its previous digest for one whose chain is checked.
CREATE OR REPLACE TEMP MACRO integrity_in_pairs(a, r, k) AS
    CASE WHEN getvariable('slice_null') THEN (a IS NULL OR r IS NULL)
        AND hash(coalesce(k, '')) % getvariable('null_buckets') = getvariable('null_bucket')
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL
              AND (getvariable('lo_open') OR a >= getvariable('lo_a'))
              AND (getvariable('hi_open') OR a <= getvariable('hi_a'))
              AND (getvariable('lo_open') OR a > getvariable('lo_a')
                   OR (a = getvariable('lo_a') AND r > getvariable('lo_r')))
              AND (getvariable('hi_open') OR a < getvariable('hi_a')
                   OR (a = getvariable('hi_a') AND r <= getvariable('hi_r')))))
        AND integrity_in_chain_units(a, r)
    END;

