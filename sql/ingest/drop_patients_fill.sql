-- The patients of the checked patients file that are not quarantined (accepted, or duplicates of held rows).
INSERT INTO ingest_drop_patients
SELECT DISTINCT site_id, patient_id FROM ingest_checked WHERE reason_code IS NULL
