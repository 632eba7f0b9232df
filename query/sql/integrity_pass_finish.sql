-- integrity_pass_finish: marks a pass finished. Parameters:
--   $1 finished_at (TIMESTAMP UTC), $2 slices, $3 pass_id
UPDATE integrity_passes SET finished_at = $1, slices = $2 WHERE pass_id = $3;
