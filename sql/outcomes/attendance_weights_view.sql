-- outcomes.attendance_weights (SAP 3.1), patient-level, never published: per analysis patient, instrument and
-- post-baseline visit where the patient is eligible or assessed, whether eligible and assessed, the
-- attendance weight (NULL unless eligible and assessed) and the model's method. A view: the rows are stored
-- with integer keys in outcomes.attendance_rows, the identifiers in outcomes.attendance_patients and the
-- instrument, visit and method in outcomes.attendance_models (writing ~50 rows of text keys per patient cost
-- more than all the models' fits). Join on (site_id, patient_id, instrument, visit).
CREATE OR REPLACE VIEW outcomes.attendance_weights AS
SELECT p.site_id, p.patient_id, m.instrument, m.visit, p.arm, r.eligible, r.assessed, r.weight, m.method
FROM outcomes.attendance_rows r
JOIN outcomes.attendance_patients p USING (patient)
JOIN outcomes.attendance_models m USING (model);
