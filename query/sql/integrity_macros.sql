-- integrity_macros: which rows belong to the slice the integrity pass is
-- working on (query/integrity.go sets the variables before each slice).
--
-- A slice of log files and listings is a range of (account, region,
-- delivery day), lower bound excluded and upper bound included, so that
-- consecutive slices cover every value exactly once; with strips, that
-- range is taken within one strip of delivery days (strip_lo to strip_hi).
-- Or, with slice_null, it is one of null_buckets shares (by a hash of the
-- key k the rows are matched on) of the rows where any of the three is
-- unknown (files outside CloudTrail's layout); or, with slice_all,
-- everything (a database small enough for one slice). An incremental pass
-- (units_only) keeps, of each slice, the rows of the units it redoes.
--
-- Strips are there for DuckDB's zone maps, the only way it skips rows for
-- a range this wide: a slice reads every row group whose minimum and
-- maximum overlap its bounds. One ingest of a year stores rows account by
-- account, so ranges of accounts skip most row groups; a year of nightly
-- ingests stores them day by day, so only ranges of days do. With strips,
-- a slice has both bounds, and each row group is read by the slices of its
-- accounts within its days (query/integrity.go, stripCount).

-- Whether (x, y, z) is above (lx, ly, lz), unless lo_open, and up to and
-- including (hx, hy, hz), unless hi_open, compared in that order. The
-- comparisons are spelled out column by column: DuckDB turns a pair of row
-- comparisons into a BETWEEN, which it does not support on rows. The
-- bounds on x alone are redundant, but simple enough for DuckDB to apply
-- while it scans (zone maps, and no other column read for rows outside
-- the slice).
CREATE OR REPLACE TEMP MACRO integrity_in_range(x, y, z, lx, ly, lz, hx, hy, hz) AS
    (getvariable('lo_open') OR x >= lx)
    AND (getvariable('hi_open') OR x <= hx)
    AND (getvariable('lo_open') OR x > lx OR (x = lx AND (y > ly OR (y = ly AND z > lz))))
    AND (getvariable('hi_open') OR x < hx OR (x = hx AND (y < hy OR (y = hy AND z <= hz))));

-- Whether a delivery day d, or a digest's end e, is in the slice's strip.
CREATE OR REPLACE TEMP MACRO integrity_in_strip(d) AS
    NOT getvariable('strips') OR (d >= getvariable('strip_lo') AND d <= getvariable('strip_hi'));

CREATE OR REPLACE TEMP MACRO integrity_in_end_strip(e) AS
    NOT getvariable('strips')
    OR (e >= CAST(getvariable('strip_lo') AS TIMESTAMP) AND e < CAST(getvariable('strip_hi') AS TIMESTAMP) + INTERVAL 1 DAY);

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
              AND integrity_in_strip(d)
              AND integrity_in_range(a, r, d,
                  getvariable('lo_a'), getvariable('lo_r'), getvariable('lo_d'),
                  getvariable('hi_a'), getvariable('hi_r'), getvariable('hi_d'))))
        AND integrity_in_units(a, r, d)
    END;

-- The digests whose chain a slice checks: a range of (account, region)
-- pairs (a digest's previous digest is always of the same account and
-- region), with strips within a strip of end days. With slice_null, one
-- share of the digests whose account or region is unknown (or, with
-- strips, whose end is), by a hash of k: the key of the previous digest
-- for a digest whose chain is checked, the digest's own key for one looked
-- up as a previous digest, so that both are in the same share. e is the
-- digest's end.
CREATE OR REPLACE TEMP MACRO integrity_in_chain_null(a, r, e, k) AS
    (a IS NULL OR r IS NULL OR (getvariable('strips') AND e IS NULL))
    AND hash(coalesce(k, '')) % getvariable('null_buckets') = getvariable('null_bucket');

CREATE OR REPLACE TEMP MACRO integrity_in_pairs(a, r, e, k) AS
    CASE WHEN getvariable('slice_null') THEN integrity_in_chain_null(a, r, e, k)
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL AND integrity_in_end_strip(e)
              AND integrity_in_range(a, r, 0, getvariable('lo_a'), getvariable('lo_r'), 0,
                                     getvariable('hi_a'), getvariable('hi_r'), 0)))
        AND integrity_in_chain_units(a, r)
    END;

-- Where the slice's previous digests are looked up. Without strips, in the
-- slice itself. With strips, a previous digest can be in an earlier strip:
-- among the digests of the slice's pairs that end between prev_lo and
-- prev_hi, set from the previous digests' keys by integrity_chain.sql
-- (every end with prev_any), of any pair for the shares of unknowns.
CREATE OR REPLACE TEMP MACRO integrity_prev_near(a, r, e, k) AS
    CASE WHEN NOT getvariable('strips') THEN integrity_in_pairs(a, r, e, k)
    ELSE (getvariable('prev_any') OR (e >= getvariable('prev_lo') AND e < getvariable('prev_hi')))
         AND (getvariable('slice_null') OR getvariable('slice_all')
              OR (a IS NOT NULL AND r IS NOT NULL
                  AND integrity_in_range(a, r, 0, getvariable('lo_a'), getvariable('lo_r'), 0,
                                         getvariable('hi_a'), getvariable('hi_r'), 0)))
    END;
