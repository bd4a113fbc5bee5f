-- Accepted rows of the patients file: passed every check, neither a repeat nor a duplicate of a held row.
INSERT INTO ingest.patients (
    drop_id, version, line, site_id, patient_id, procedure, index_year, age_at_index, age_top_coded, sex,
    bmi, diabetes, smoker, prior_esi, symptom_months, levels_treated, asa_class, anesthesia, los_days
)
SELECT
    $drop_id, $version, line, site_id, patient_id, procedure, index_year, age_at_index, age_top_coded, sex,
    bmi, diabetes, smoker, prior_esi, symptom_months, levels_treated, asa_class, anesthesia, los_days
FROM ingest_result_patients
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate
