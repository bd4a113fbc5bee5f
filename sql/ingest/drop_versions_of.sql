-- The versions already held for one drop id.
SELECT version, content_sha256, status, superseded_by
FROM ingest.drop_versions
WHERE drop_id = $drop_id
ORDER BY version
