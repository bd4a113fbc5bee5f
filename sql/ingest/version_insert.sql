-- Registers a drop version (ingested or rejected).
INSERT INTO ingest.drop_versions (
    drop_id, version, content_sha256, status, reason_code, reason, superseded_by, ingested_at, run_id
)
VALUES ($drop_id, $version, $content_sha256, $status, $reason_code, $reason, NULL, $at, $run_id)
