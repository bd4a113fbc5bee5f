-- The patients of the attendance models (SAP 3.1), one row per analysis patient numbered 0..n-1 in
-- (site_id, patient_id) order (`row`: the patient's position in every array the models read, and the
-- `patient` key of outcomes.attendance_rows), as a temporary table of the attendance_weights build: arm, site number, the covariates of the propensity model
-- as delivered (NULL when missing; imputed in Python by pipeline/comparison/propensity.py's build_design,
-- as the comparison stage does; the columns are those of sql/comparison/input.sql), and what decides whether
-- a patient is due at a visit: index year, follow-up end, first death and withdrawal days.
-- Parameter: baseline visit name.
CREATE OR REPLACE TEMP TABLE attendance_input AS
WITH baseline AS (
    SELECT site_id, patient_id,
           any_value(value) FILTER (WHERE instrument = 'ODI')      AS baseline_odi,
           any_value(value) FILTER (WHERE instrument = 'NRS_BACK') AS baseline_nrs_back,
           any_value(value) FILTER (WHERE instrument = 'NRS_LEG')  AS baseline_nrs_leg
    FROM staging.pro_visits
    WHERE visit = $baseline_visit::VARCHAR
    GROUP BY site_id, patient_id
)
SELECT (row_number() OVER (ORDER BY p.site_id, p.patient_id) - 1)::BIGINT AS row,
       p.site_id, p.patient_id, p.procedure AS arm, p.arm = 'treatment' AS treated,
       (dense_rank() OVER (ORDER BY p.site_id) - 1)::INTEGER AS site,
       p.index_year::INTEGER AS index_year, f.follow_up_end_day::INTEGER AS follow_up_end_day,
       f.death_day::INTEGER AS death_day, f.withdrawn_day::INTEGER AS withdrawn_day,
       p.age_at_index::DOUBLE AS age_at_index, p.female::DOUBLE AS female, p.bmi::DOUBLE AS bmi,
       p.diabetes::DOUBLE AS diabetes, p.smoker::DOUBLE AS smoker, p.prior_esi::DOUBLE AS prior_esi,
       p.symptom_months::DOUBLE AS symptom_months,
       p.levels_treated::DOUBLE AS levels_treated, p.asa_class::DOUBLE AS asa_class,
       b.baseline_odi::DOUBLE AS baseline_odi, b.baseline_nrs_back::DOUBLE AS baseline_nrs_back,
       b.baseline_nrs_leg::DOUBLE AS baseline_nrs_leg
FROM staging.patients p
JOIN staging.follow_up f USING (site_id, patient_id)
LEFT JOIN baseline b USING (site_id, patient_id)
WHERE p.in_analysis;
