-- comparison.cohort without identifiers, in row order (the patient-level arrays of the later steps).
SELECT * EXCLUDE (row, site_id, patient_id, arm_role) FROM comparison.cohort ORDER BY row;
