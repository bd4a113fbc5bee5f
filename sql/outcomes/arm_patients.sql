-- Patients of the analysis population per arm (SAP section 1); both arms always get a row, with 0 when the
-- data hold no patient of that procedure (SAP 9: its numbers are then not estimable).
-- Parameters: treatment code, comparator code.
WITH arms AS (
    SELECT * FROM (VALUES ($treatment::VARCHAR, 'treatment'), ($comparator::VARCHAR, 'comparator')) t(arm, arm_role)
)
SELECT a.arm, count(p.patient_id) AS patients
FROM arms a
LEFT JOIN staging.patients p ON p.arm = a.arm_role AND p.in_analysis
GROUP BY a.arm, a.arm_role
ORDER BY a.arm_role DESC;
