-- integrity_last_pass: whether the last integrity pass finished, and the
-- last run it took into account (no row: there was none).
SELECT finished_at IS NOT NULL, through_run
FROM integrity_passes
ORDER BY pass_id DESC
LIMIT 1;
