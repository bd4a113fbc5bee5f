-- Per arm (SAP section 5): all patients of the arm and those with at least one COMPLICATION on a day <= the
-- window. Both arms always get a row (n = 0 when an arm is empty, which the rates check then reports).
-- Parameters: treatment code, comparator code, window in days, complication event code.
WITH arms AS (
    SELECT * FROM (VALUES ($treatment::VARCHAR, 'treatment'), ($comparator::VARCHAR, 'comparator')) t(arm, arm_role)
),
complicated AS (
    SELECT DISTINCT site_id, patient_id
    FROM staging.events
    WHERE days_from_index <= $window_days AND event = $complication_event
)
SELECT a.arm, a.arm_role,
       count(p.patient_id)                               AS n,
       count(c.patient_id)                               AS events
FROM arms a
LEFT JOIN staging.patients p ON p.arm = a.arm_role AND p.in_analysis
LEFT JOIN complicated c ON c.site_id = p.site_id AND c.patient_id = p.patient_id
GROUP BY a.arm, a.arm_role
ORDER BY a.arm_role DESC;
