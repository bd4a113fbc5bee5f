-- staging.events: every event belongs to a staging patient (no orphan slipped through).
SELECT count(*) FILTER (WHERE p.patient_id IS NULL) AS failures, count(*) AS checked
FROM staging.events e
LEFT JOIN staging.patients p USING (site_id, patient_id);
