-- staging.patients: one row per current accepted patient (site_id, patient_id), contract columns typed,
-- plus the study arm (SAP section 1). Reads ingest.current_patients through the view scoped_patients (all
-- patients, or only the changed ones: pipeline/incremental.py). Parameters: treatment and comparator codes.
WITH arms AS (SELECT $treatment::VARCHAR AS treatment, $comparator::VARCHAR AS comparator)
SELECT p.site_id::VARCHAR            AS site_id,
       p.patient_id::VARCHAR         AS patient_id,
       p.procedure::VARCHAR          AS procedure,
       p.index_year::INTEGER         AS index_year,
       p.age_at_index::INTEGER       AS age_at_index,
       p.age_top_coded::BOOLEAN      AS age_top_coded,
       p.sex::VARCHAR                AS sex,
       p.bmi::DOUBLE                 AS bmi,
       p.diabetes::INTEGER           AS diabetes,
       p.smoker::INTEGER             AS smoker,
       p.prior_esi::INTEGER          AS prior_esi,
       p.symptom_months::DOUBLE      AS symptom_months,
       p.levels_treated::INTEGER     AS levels_treated,
       p.asa_class::INTEGER          AS asa_class,
       p.anesthesia::VARCHAR         AS anesthesia,
       p.los_days::INTEGER           AS los_days,
       -- 0/1 like the other binary covariates, so the propensity model treats them alike (SAP section 6).
       (p.sex = 'F')::INTEGER        AS female,
       CASE p.procedure WHEN a.treatment THEN 'treatment' WHEN a.comparator THEN 'comparator' END AS arm,
       p.procedure IN (a.treatment, a.comparator) AS in_analysis
FROM scoped_patients p
CROSS JOIN arms a
