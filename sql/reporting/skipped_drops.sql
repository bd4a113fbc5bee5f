-- Drops whose latest sighting was skipped although the bytes matched a version that is not in use (a superseded
-- or rejected one): the landing holds content that is not applied. A skip of the live version's own bytes (an
-- idempotent rerun) is no news and not listed, so re-running a refresh does not change the report.
WITH latest AS (
    SELECT drop_id, arg_max(status, seen_at) AS status, arg_max(version, seen_at) AS version,
           arg_max(reason, seen_at) AS reason
    FROM ingest.drop_log
    GROUP BY drop_id
)
SELECT l.drop_id, l.version AS matched_version, v.status AS matched_status, v.superseded_by, l.reason
FROM latest l
LEFT JOIN ingest.drop_versions v ON v.drop_id = l.drop_id AND v.version = l.version
WHERE l.status = 'skipped' AND (v.status IS DISTINCT FROM 'ingested' OR v.superseded_by IS NOT NULL)
ORDER BY l.drop_id;
