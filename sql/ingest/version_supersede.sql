-- A correction that is ingested replaces the previous live version of the same drop (kept as history).
UPDATE ingest.drop_versions
SET superseded_by = $version
WHERE drop_id = $drop_id AND version = $prev_version
