-- The drops still being copied, as this ingest run found them (no value, no invalid folder name): the
-- previous run's list is replaced. Parameters: drop ids and reasons (parallel lists), the time, the run id.
DELETE FROM ingest.waiting_drops;
INSERT INTO ingest.waiting_drops (drop_id, seen_at, run_id, reason)
SELECT unnest($drop_ids::VARCHAR[]), $at, $run_id, unnest($reasons::VARCHAR[]);
