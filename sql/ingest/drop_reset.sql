-- The per-drop temporary tables of phase 1, empty before the drop's files are checked (each file adds to
-- them; all its files are checked before any is inserted):
-- the accepted patients of the drop, so that its pro_responses and events may refer to them;
CREATE OR REPLACE TEMP TABLE ingest_drop_patients (site_id VARCHAR, patient_id VARCHAR);
-- the malformed records of its files, per file.
CREATE OR REPLACE TEMP TABLE ingest_malformed (file VARCHAR, line BIGINT);
