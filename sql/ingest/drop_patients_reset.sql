-- Accepted patients of the drop being checked (its files are checked before any is inserted), so that
-- its pro_responses and events may refer to them.
CREATE OR REPLACE TEMP TABLE ingest_drop_patients (site_id VARCHAR, patient_id VARCHAR)
