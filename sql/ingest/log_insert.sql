-- Every look at a drop folder: ingested, rejected or skipped.
INSERT INTO ingest.drop_log (run_id, seen_at, drop_id, version, status, reason)
VALUES ($run_id, $at, $drop_id, $version, $status, $reason)
