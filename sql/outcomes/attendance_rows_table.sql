-- outcomes.attendance_rows (SAP 3.1), emptied; filled by sql/outcomes/attendance_rows_write.sql one visit at a time.
-- Patient-level, never published: one row per attendance model (outcomes.attendance_models.model) and analysis
-- patient (outcomes.attendance_patients.patient) who is eligible or assessed at the model's visit; weight is
-- NULL unless eligible and assessed. Integer keys: the identifiers, instrument, visit, arm and method are
-- stored once (in the patient and model tables) instead of on ~50 rows per patient, and the view
-- outcomes.attendance_weights joins them back (sql/outcomes/attendance_weights_view.sql).
CREATE OR REPLACE TABLE outcomes.attendance_rows (
    model    INTEGER,
    patient  INTEGER,
    eligible BOOLEAN,
    assessed BOOLEAN,
    weight   DOUBLE
);
