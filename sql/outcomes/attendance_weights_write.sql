-- outcomes.attendance_weights (SAP 3.1), patient-level, never published: the rows of one instrument, one per
-- analysis patient and post-baseline visit where the patient is eligible or assessed, computed in Python
-- (registered as _attendance_rows: patient row, visit ordinal, eligible, assessed, weight, method code);
-- identifiers and arm are joined back here from attendance_patients. weight is NULL unless eligible and
-- assessed. Parameters: the instrument, the visit names by ordinal, the method names by code.
INSERT INTO outcomes.attendance_weights
SELECT p.site_id, p.patient_id, $instrument::VARCHAR, ($visit_names::VARCHAR[])[r.visit + 1], p.arm, r.eligible,
       r.assessed, r.weight, ($methods::VARCHAR[])[r.method + 1]
FROM _attendance_rows r
JOIN attendance_patients p USING (row);
