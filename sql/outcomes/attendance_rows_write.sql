-- outcomes.attendance_rows (SAP 3.1), patient-level, never published: one row per attendance model
-- (outcomes.attendance_models.model) and analysis patient (outcomes.attendance_patients.patient) who is eligible
-- or assessed at the model's visit, computed in Python (registered as _attendance_rows, in (model, patient)
-- order). weight is NULL unless eligible and assessed. Integer keys: the identifiers, instrument, visit, arm
-- and method are stored once (in the patient and model tables) instead of on ~50 rows per patient, and
-- the view outcomes.attendance_weights joins them back (sql/outcomes/attendance_weights_view.sql).
CREATE OR REPLACE TABLE outcomes.attendance_rows AS
SELECT model::INTEGER AS model, patient::INTEGER AS patient, eligible::BOOLEAN AS eligible,
       assessed::BOOLEAN AS assessed, weight::DOUBLE AS weight
FROM _attendance_rows;
