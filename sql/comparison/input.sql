-- The analysis population of SAP section 6, one row per patient numbered 0..n-1 in (site_id, patient_id)
-- order (`row`: the patient's position in every array the comparison reads), as a temporary table of the
-- propensity_weights step: arm, the propensity-model covariates as delivered (NULL when missing; imputation
-- happens in pipeline/comparison/propensity.py, where it is recorded), the BASELINE ODI and NRS values, the
-- 0/1 complication flag within the safety window, and the reintervention and return-to-activity times from
-- the durability data sets (NULL when a data set has no row for the patient).
-- Parameters: baseline visit name, complication window in days, complication event code.
CREATE OR REPLACE TEMP TABLE comparison_input AS
WITH params AS (SELECT $baseline_visit::VARCHAR AS baseline_visit, $window_days::INTEGER AS window_days, $complication_event::VARCHAR AS complication),
baseline AS (
    SELECT v.site_id, v.patient_id,
           any_value(v.value) FILTER (WHERE v.instrument = 'ODI')      AS baseline_odi,
           any_value(v.value) FILTER (WHERE v.instrument = 'NRS_BACK') AS baseline_nrs_back,
           any_value(v.value) FILTER (WHERE v.instrument = 'NRS_LEG')  AS baseline_nrs_leg
    FROM staging.pro_visits v, params
    WHERE v.visit = params.baseline_visit
    GROUP BY v.site_id, v.patient_id
),
complicated AS (
    SELECT DISTINCT e.site_id, e.patient_id
    FROM staging.events e, params
    WHERE e.event = params.complication AND e.days_from_index <= params.window_days
)
SELECT (row_number() OVER (ORDER BY p.site_id, p.patient_id) - 1)::BIGINT AS row,
       p.site_id, p.patient_id, p.procedure, p.arm AS arm_role, p.arm = 'treatment' AS treated,
       p.age_at_index::DOUBLE AS age_at_index, p.female::DOUBLE AS female, p.bmi::DOUBLE AS bmi,
       p.diabetes::DOUBLE AS diabetes, p.smoker::DOUBLE AS smoker, p.prior_esi::DOUBLE AS prior_esi,
       p.symptom_months::DOUBLE AS symptom_months,
       p.levels_treated::DOUBLE AS levels_treated, p.asa_class::DOUBLE AS asa_class,
       b.baseline_odi::DOUBLE AS baseline_odi, b.baseline_nrs_back::DOUBLE AS baseline_nrs_back,
       b.baseline_nrs_leg::DOUBLE AS baseline_nrs_leg,
       (c.patient_id IS NOT NULL)::DOUBLE AS complication,
       rt.time::DOUBLE AS reintervention_time, rt.event::DOUBLE AS reintervention_event,
       rt.competing_event::DOUBLE AS reintervention_competing,  -- death first: the CIF's competing event
       a.time::DOUBLE AS return_to_activity_time, a.event::DOUBLE AS return_to_activity_event
FROM staging.patients p
LEFT JOIN baseline b USING (site_id, patient_id)
LEFT JOIN complicated c USING (site_id, patient_id)
LEFT JOIN durability.reintervention_dataset rt USING (site_id, patient_id)
LEFT JOIN durability.return_to_activity_dataset a USING (site_id, patient_id)
WHERE p.in_analysis;
