-- Row checks of patients.csv/.parquet: typed values and the first failing rule of each row, in the order
-- of contract.REASON_CODES (the CASE order is the precedence). conflicting_duplicate, erased_patient and
-- orphan are settled afterwards, on the rows that pass all of these.
CREATE OR REPLACE TEMP TABLE ingest_checked AS
WITH parsed AS (
    SELECT
        s.*, i.site_ok, i.patient_ok, i.site_hit, i.patient_hit, i.patient_state,
        TRY_CAST(s.index_year AS DOUBLE) AS index_year_d,
        TRY_CAST(s.age_at_index AS DOUBLE) AS age_at_index_d,
        TRY_CAST(s.bmi AS DOUBLE) AS bmi_d,
        TRY_CAST(s.diabetes AS DOUBLE) AS diabetes_d,
        TRY_CAST(s.smoker AS DOUBLE) AS smoker_d,
        TRY_CAST(s.prior_esi AS DOUBLE) AS prior_esi_d,
        TRY_CAST(s.symptom_months AS DOUBLE) AS symptom_months_d,
        TRY_CAST(s.levels_treated AS DOUBLE) AS levels_treated_d,
        TRY_CAST(s.asa_class AS DOUBLE) AS asa_class_d,
        TRY_CAST(s.los_days AS DOUBLE) AS los_days_d
    FROM ingest_stage s
    JOIN ingest_ids i ON i.site_id IS NOT DISTINCT FROM s.site_id AND i.patient_id IS NOT DISTINCT FROM s.patient_id
),
typed AS (
    SELECT
        *,
        ingest_as_int(index_year_d) AS index_year_v,
        ingest_as_int(age_at_index_d) AS age_at_index_v,
        ingest_as_num(bmi_d) AS bmi_v,
        ingest_as_int(diabetes_d) AS diabetes_v,
        ingest_as_int(smoker_d) AS smoker_v,
        ingest_as_int(prior_esi_d) AS prior_esi_v,
        ingest_as_num(symptom_months_d) AS symptom_months_v,
        ingest_as_int(levels_treated_d) AS levels_treated_v,
        ingest_as_int(asa_class_d) AS asa_class_v,
        ingest_as_int(los_days_d) AS los_days_v
    FROM parsed
),
judged AS (
    SELECT
        *,
        CASE
            WHEN NOT site_ok THEN ingest_fault('invalid_id', 'site_id')
            WHEN NOT patient_ok THEN ingest_fault('invalid_id', 'patient_id')
            -- identifier_in_text: text columns, and numeric columns whose value is not a number
            WHEN site_hit THEN ingest_hit('site_id', site_id)
            WHEN patient_hit THEN ingest_hit('patient_id', patient_id)
            WHEN regexp_matches(procedure, $ident_any) THEN ingest_hit('procedure', procedure)
            WHEN ingest_not_number(index_year, index_year_d) AND regexp_matches(index_year, $ident_any)
                THEN ingest_hit('index_year', index_year)
            WHEN ingest_not_number(age_at_index, age_at_index_d) AND regexp_matches(age_at_index, $ident_any)
                THEN ingest_hit('age_at_index', age_at_index)
            WHEN regexp_matches(sex, $ident_any) THEN ingest_hit('sex', sex)
            WHEN ingest_not_number(bmi, bmi_d) AND regexp_matches(bmi, $ident_any) THEN ingest_hit('bmi', bmi)
            WHEN ingest_not_number(diabetes, diabetes_d) AND regexp_matches(diabetes, $ident_any)
                THEN ingest_hit('diabetes', diabetes)
            WHEN ingest_not_number(smoker, smoker_d) AND regexp_matches(smoker, $ident_any)
                THEN ingest_hit('smoker', smoker)
            WHEN ingest_not_number(prior_esi, prior_esi_d) AND regexp_matches(prior_esi, $ident_any)
                THEN ingest_hit('prior_esi', prior_esi)
            WHEN ingest_not_number(symptom_months, symptom_months_d) AND regexp_matches(symptom_months, $ident_any)
                THEN ingest_hit('symptom_months', symptom_months)
            WHEN ingest_not_number(levels_treated, levels_treated_d) AND regexp_matches(levels_treated, $ident_any)
                THEN ingest_hit('levels_treated', levels_treated)
            WHEN ingest_not_number(asa_class, asa_class_d) AND regexp_matches(asa_class, $ident_any)
                THEN ingest_hit('asa_class', asa_class)
            WHEN regexp_matches(anesthesia, $ident_any) THEN ingest_hit('anesthesia', anesthesia)
            WHEN ingest_not_number(los_days, los_days_d) AND regexp_matches(los_days, $ident_any)
                THEN ingest_hit('los_days', los_days)
            -- missing_value: the columns not in contract.NULLABLE
            WHEN procedure IS NULL THEN ingest_fault('missing_value', 'procedure')
            WHEN index_year IS NULL THEN ingest_fault('missing_value', 'index_year')
            WHEN age_at_index IS NULL THEN ingest_fault('missing_value', 'age_at_index')
            WHEN sex IS NULL THEN ingest_fault('missing_value', 'sex')
            WHEN levels_treated IS NULL THEN ingest_fault('missing_value', 'levels_treated')
            -- invalid_type
            WHEN index_year IS NOT NULL AND index_year_v IS NULL THEN ingest_fault('invalid_type', 'index_year')
            WHEN age_at_index IS NOT NULL AND age_at_index_v IS NULL THEN ingest_fault('invalid_type', 'age_at_index')
            WHEN bmi IS NOT NULL AND bmi_v IS NULL THEN ingest_fault('invalid_type', 'bmi')
            WHEN diabetes IS NOT NULL AND diabetes_v IS NULL THEN ingest_fault('invalid_type', 'diabetes')
            WHEN smoker IS NOT NULL AND smoker_v IS NULL THEN ingest_fault('invalid_type', 'smoker')
            WHEN prior_esi IS NOT NULL AND prior_esi_v IS NULL THEN ingest_fault('invalid_type', 'prior_esi')
            WHEN symptom_months IS NOT NULL AND symptom_months_v IS NULL
                THEN ingest_fault('invalid_type', 'symptom_months')
            WHEN levels_treated IS NOT NULL AND levels_treated_v IS NULL
                THEN ingest_fault('invalid_type', 'levels_treated')
            WHEN asa_class IS NOT NULL AND asa_class_v IS NULL THEN ingest_fault('invalid_type', 'asa_class')
            WHEN los_days IS NOT NULL AND los_days_v IS NULL THEN ingest_fault('invalid_type', 'los_days')
            -- unknown_code
            WHEN NOT regexp_matches(procedure, $procedure_pattern) THEN ingest_fault('unknown_code', 'procedure')
            WHEN NOT list_contains($sexes, sex) THEN ingest_fault('unknown_code', 'sex')
            WHEN NOT list_contains($anesthesia_codes, anesthesia) THEN ingest_fault('unknown_code', 'anesthesia')
            -- out_of_range (contract.PATIENT_RANGES); ages above the top code are accepted and top-coded
            WHEN index_year_v NOT BETWEEN $index_year_low AND least($index_year_high, $current_year)
                THEN ingest_fault('out_of_range', 'index_year')
            WHEN age_at_index_v < $age_at_index_low THEN ingest_fault('out_of_range', 'age_at_index')
            WHEN bmi_v NOT BETWEEN $bmi_low AND $bmi_high THEN ingest_fault('out_of_range', 'bmi')
            WHEN diabetes_v NOT BETWEEN $diabetes_low AND $diabetes_high THEN ingest_fault('out_of_range', 'diabetes')
            WHEN smoker_v NOT BETWEEN $smoker_low AND $smoker_high THEN ingest_fault('out_of_range', 'smoker')
            WHEN prior_esi_v NOT BETWEEN $prior_esi_low AND $prior_esi_high
                THEN ingest_fault('out_of_range', 'prior_esi')
            WHEN symptom_months_v NOT BETWEEN $symptom_months_low AND $symptom_months_high
                THEN ingest_fault('out_of_range', 'symptom_months')
            WHEN levels_treated_v NOT BETWEEN $levels_treated_low AND $levels_treated_high
                THEN ingest_fault('out_of_range', 'levels_treated')
            WHEN asa_class_v NOT BETWEEN $asa_class_low AND $asa_class_high
                THEN ingest_fault('out_of_range', 'asa_class')
            WHEN los_days_v NOT BETWEEN $los_days_low AND $los_days_high THEN ingest_fault('out_of_range', 'los_days')
        END AS fault
    FROM typed
)
SELECT
    line,
    site_id,
    patient_id,
    procedure,
    index_year_v AS index_year,
    least(age_at_index_v, $age_top_code) AS age_at_index,
    coalesce(age_at_index_v > $age_top_code, false) AS age_top_coded,
    sex,
    bmi_v AS bmi,
    diabetes_v AS diabetes,
    smoker_v AS smoker,
    prior_esi_v AS prior_esi,
    symptom_months_v AS symptom_months,
    levels_treated_v AS levels_treated,
    asa_class_v AS asa_class,
    anesthesia,
    los_days_v AS los_days,
    fault.code AS reason_code,
    fault.col AS column_name,
    fault.val AS ident_value,
    CAST(NULL AS VARCHAR) AS identifier_kind,
    -- may the quarantine keep the ids (valid and not themselves an identifier)?
    site_ok AND NOT site_hit AS site_keep,
    patient_ok AND NOT patient_hit AS patient_keep,
    patient_state,
    false AS repeat,
    false AS duplicate,
    -- the current row of the key this row meets (set by ingest_current_match)
    CAST(NULL AS VARCHAR) AS cur_drop_id,
    CAST(NULL AS INTEGER) AS cur_version,
    CAST(NULL AS BIGINT) AS cur_line
FROM judged
