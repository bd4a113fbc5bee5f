-- Every drop version (ingested or rejected) with its status and reason, in delivery order.
SELECT drop_id, version, status, reason_code, reason, superseded_by, ingested_at
FROM ingest.drop_versions
ORDER BY drop_id, version;
