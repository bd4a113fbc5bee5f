-- comparison.propensity (patient-level score, preference score and weight; read by the report's overlap
-- figure) from comparison.cohort. Parameter: the weighting scheme.
CREATE OR REPLACE TABLE comparison.propensity AS
SELECT site_id, patient_id, procedure AS arm, arm_role, propensity_score, preference_score, weight,
       $weighting_scheme::VARCHAR AS weights
FROM comparison.cohort
ORDER BY row;
