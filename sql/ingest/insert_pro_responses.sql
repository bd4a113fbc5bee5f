-- Accepted rows of the pro_responses file (value and unit as delivered; staging converts units).
INSERT INTO ingest.pro_responses (drop_id, version, line, site_id, patient_id, days_from_index, instrument, value, unit)
SELECT $drop_id, $version, line, site_id, patient_id, days_from_index, instrument, value, unit
FROM ingest_result_pro_responses
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate
