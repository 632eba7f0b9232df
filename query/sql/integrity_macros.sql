-- integrity_macros: which rows belong to the unit an incremental pass
-- redoes, and to the slice of (account, region) pairs the digest chain is
-- working on (query/integrity.go sets the variables before each slice).
-- Which log files and listings belong to a slice is in
-- integrity_slice_accounts.sql or integrity_slice_days.sql, whichever
-- order the rows are stored in.

-- Whether (x, y, z) is above (lx, ly, lz), unless lo_open, and up to and
-- including (hx, hy, hz), unless hi_open, compared in that order: the
-- bounds of a slice. The comparisons are spelled out column by column:
-- DuckDB turns a pair of row comparisons into a BETWEEN, which it does not
-- support on rows. The bounds on x alone are redundant, but simple enough
-- for DuckDB to apply while it scans (zone maps, and no other column read
-- for rows outside the slice) when x is a column the rows are stored in
-- the order of.
CREATE OR REPLACE TEMP MACRO integrity_in_range(x, y, z, lx, ly, lz, hx, hy, hz) AS
    (getvariable('lo_open') OR x >= lx)
    AND (getvariable('hi_open') OR x <= hx)
    AND (getvariable('lo_open') OR x > lx OR (x = lx AND (y > ly OR (y = ly AND z > lz))))
    AND (getvariable('hi_open') OR x < hx OR (x = hx AND (y < hy OR (y = hy AND z <= hz))));

-- Whether a row is in a unit an incremental pass redoes
-- (integrity_units.sql); rows with an unknown account, region or day are
-- always redone (they are few, and have no unit).
CREATE OR REPLACE TEMP MACRO integrity_in_units(a, r, d) AS
    NOT getvariable('units_only') OR a IS NULL OR r IS NULL OR d IS NULL
    OR EXISTS (SELECT 1 FROM integrity_units WHERE unit_account = a AND unit_region = r AND unit_day = d);

CREATE OR REPLACE TEMP MACRO integrity_in_chain_units(a, r) AS
    NOT getvariable('units_only') OR a IS NULL OR r IS NULL
    OR EXISTS (SELECT 1 FROM integrity_chain_units WHERE unit_account = a AND unit_region = r);

-- Whether a digest is in a slice of (account, region) pairs, for the
-- digest chain cut by pairs: a digest's previous digest is always of the
-- same account and region. k is the
-- digest's own key for a digest looked up as a previous one, the key of
-- its previous digest for one whose chain is checked.
CREATE OR REPLACE TEMP MACRO integrity_in_pairs(a, r, k) AS
    CASE WHEN getvariable('slice_null') THEN (a IS NULL OR r IS NULL)
        AND hash(coalesce(k, '')) % getvariable('null_buckets') = getvariable('null_bucket')
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL
              AND integrity_in_range(a, r, 0, getvariable('lo_a'), getvariable('lo_r'), 0,
                                     getvariable('hi_a'), getvariable('hi_r'), 0)))
        AND integrity_in_chain_units(a, r)
    END;
