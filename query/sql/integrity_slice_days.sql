-- integrity_slice_days: the same as integrity_slice_accounts.sql, for rows
-- stored roughly day by day (a year of nightly ingests stores each night's
-- files together). A slice is a range of (delivery day, account, region),
-- lower bound excluded and upper bound included (integrity_in_range); the
-- bounds on the day alone let DuckDB skip the row groups of other days.
-- Cut by account, slices of such a table each read all of it: a full pass
-- over 6.2 million files took 586 s instead of 98 s (docs/performance.md).
CREATE OR REPLACE TEMP MACRO integrity_in_slice(a, r, d, k) AS
    CASE WHEN getvariable('slice_null') THEN (a IS NULL OR r IS NULL OR d IS NULL)
        AND hash(k) % getvariable('null_buckets') = getvariable('null_bucket')
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL AND d IS NOT NULL
              AND integrity_in_range(d, a, r,
                  getvariable('lo_d'), getvariable('lo_a'), getvariable('lo_r'),
                  getvariable('hi_d'), getvariable('hi_a'), getvariable('hi_r'))))
        AND integrity_in_units(a, r, d)
    END;

-- The digests whose chain the slice checks: a range of (end day, account,
-- region), or with slice_null one share of the digests whose account,
-- region or end is unknown, by a hash of the previous digest's key k.
-- The redundant bounds on the end alone let DuckDB skip the other days'
-- row groups.
CREATE OR REPLACE TEMP MACRO integrity_in_chain(a, r, e, k) AS
    CASE WHEN getvariable('slice_null') THEN (a IS NULL OR r IS NULL OR e IS NULL)
        AND hash(coalesce(k, '')) % getvariable('null_buckets') = getvariable('null_bucket')
    ELSE (getvariable('slice_all')
          OR (a IS NOT NULL AND r IS NOT NULL AND e IS NOT NULL
              AND (getvariable('lo_open') OR e >= CAST(getvariable('lo_d') AS TIMESTAMP))
              AND (getvariable('hi_open') OR e < CAST(getvariable('hi_d') AS TIMESTAMP) + INTERVAL 1 DAY)
              AND integrity_in_range(CAST(e AS DATE), a, r,
                  getvariable('lo_d'), getvariable('lo_a'), getvariable('lo_r'),
                  getvariable('hi_d'), getvariable('hi_a'), getvariable('hi_r'))))
        AND integrity_in_chain_units(a, r)
    END;

-- Where the slice's previous digests are looked up: the digests ending
-- between prev_lo and prev_hi, set from the previous digests' keys by
-- integrity_chain.sql (every digest with prev_any).
CREATE OR REPLACE TEMP MACRO integrity_prev_near(a, r, e, k) AS
    getvariable('prev_any') OR (e >= getvariable('prev_lo') AND e < getvariable('prev_hi'));
