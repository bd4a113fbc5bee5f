-- outcomes.attendance_patients (SAP 3.1), patient-level, never published: the identifiers and arm of the
-- attendance models' patients (sql/outcomes/attendance_input.sql), keyed by `patient`, their row number there
-- (site_id is part of the identity: pseudonymous patient ids are unique only within a site).
CREATE OR REPLACE TABLE outcomes.attendance_patients AS
SELECT row::INTEGER AS patient, site_id, patient_id, arm
FROM attendance_input
ORDER BY row;
