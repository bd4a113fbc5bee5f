-- The current view holds one row per (site_id, patient_id).
SELECT count(*) - count(DISTINCT (site_id, patient_id)) AS failures, count(*) AS checked
FROM ingest.current_patients;
