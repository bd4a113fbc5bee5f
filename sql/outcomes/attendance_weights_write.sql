-- outcomes.attendance_weights (SAP 3.1), patient-level, never published: one row per analysis patient,
-- instrument and post-baseline visit where the patient is eligible or assessed, from the rows computed in
-- Python (registered as _attendance_rows: patient row, instrument, visit, eligible, assessed, weight, method);
-- identifiers and arm are joined back here from attendance_patients. weight is NULL unless eligible and
-- assessed. Parameter-free: the rows arrive registered.
INSERT INTO outcomes.attendance_weights
SELECT p.site_id, p.patient_id, r.instrument::VARCHAR, r.visit::VARCHAR, p.arm, r.eligible, r.assessed, r.weight,
       r.method::VARCHAR
FROM _attendance_rows r
JOIN attendance_patients p USING (row);
