-- Accepted rows of the events file.
INSERT INTO ingest.events (drop_id, version, line, site_id, patient_id, days_from_index, event, detail)
SELECT $drop_id, $version, line, site_id, patient_id, days_from_index, event, detail
FROM ingest_result_events
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate
