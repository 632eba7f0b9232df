-- integrity_pass_start: opens the integrity_passes row of a pass and
-- returns its pass_id (one more than the largest so far). Parameters:
--   $1 started_at (TIMESTAMP UTC), $2 through_run (NULL: the last run)
INSERT INTO integrity_passes (pass_id, started_at, finished_at, slices, through_run)
SELECT coalesce(max(pass_id), 0) + 1, $1, NULL, NULL,
       coalesce($2, (SELECT coalesce(max(run_id), 0) FROM runs))
FROM integrity_passes
RETURNING pass_id;
