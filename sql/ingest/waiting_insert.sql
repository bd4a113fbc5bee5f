-- A drop left for a later refresh because it is still being copied (no value, no invalid folder name).
INSERT INTO ingest.waiting_drops (drop_id, seen_at, run_id, reason)
VALUES ($drop_id, $at, $run_id, $reason)
