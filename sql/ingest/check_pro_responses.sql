-- Row checks of pro_responses.csv/.parquet: typed values and the first failing rule of each row, in the
-- order of contract.REASON_CODES (the CASE order is the precedence). conflicting_duplicate,
-- erased_patient and orphan are settled afterwards. The value is stored as delivered, with its unit; the
-- range is checked in the instrument's canonical unit.
CREATE OR REPLACE TEMP TABLE ingest_checked AS
WITH parsed AS (
    SELECT
        s.*, i.site_ok, i.patient_ok, i.site_hit, i.patient_hit, i.patient_state,
        ri.code AS known_instrument, ri.low, ri.high, ri.post_only, ri.is_integer, ri.has_units,
        ru.factor,
        TRY_CAST(s.days_from_index AS DOUBLE) AS days_d,
        TRY_CAST(s.value AS DOUBLE) AS value_d
    FROM ingest_stage s
    JOIN ingest_ids i ON i.site_id IS NOT DISTINCT FROM s.site_id AND i.patient_id IS NOT DISTINCT FROM s.patient_id
    LEFT JOIN ingest_ref_instruments ri ON ri.code = s.instrument
    LEFT JOIN ingest_ref_units ru ON ru.instrument = s.instrument AND ru.unit = s.unit
),
typed AS (
    SELECT *, ingest_as_int(days_d) AS days_v, ingest_as_num(value_d) AS value_v FROM parsed
),
judged AS (
    SELECT
        *,
        CASE
            WHEN NOT site_ok THEN ingest_fault('invalid_id', 'site_id')
            WHEN NOT patient_ok THEN ingest_fault('invalid_id', 'patient_id')
            -- identifier_in_text; known codes cannot hold one, so only other values are scanned
            WHEN site_hit THEN ingest_hit('site_id', site_id)
            WHEN patient_hit THEN ingest_hit('patient_id', patient_id)
            WHEN ingest_not_number(days_from_index, days_d) AND regexp_matches(days_from_index, $ident_any)
                THEN ingest_hit('days_from_index', days_from_index)
            WHEN known_instrument IS NULL AND regexp_matches(instrument, $ident_any)
                THEN ingest_hit('instrument', instrument)
            WHEN ingest_not_number(value, value_d) AND regexp_matches(value, $ident_any) THEN ingest_hit('value', value)
            WHEN NOT list_contains($unit_codes, unit) AND regexp_matches(unit, $ident_any) THEN ingest_hit('unit', unit)
            -- missing_value (unit may be empty)
            WHEN days_from_index IS NULL THEN ingest_fault('missing_value', 'days_from_index')
            WHEN instrument IS NULL THEN ingest_fault('missing_value', 'instrument')
            WHEN value IS NULL THEN ingest_fault('missing_value', 'value')
            -- invalid_type
            WHEN days_v IS NULL THEN ingest_fault('invalid_type', 'days_from_index')
            WHEN value_v IS NULL THEN ingest_fault('invalid_type', 'value')
            -- unknown_code
            WHEN known_instrument IS NULL THEN ingest_fault('unknown_code', 'instrument')
            -- invalid_unit: a unit from the instrument's list where it has units, none where it has not
            WHEN has_units AND factor IS NULL THEN ingest_fault('invalid_unit', 'unit')
            WHEN NOT has_units AND unit IS NOT NULL THEN ingest_fault('invalid_unit', 'unit')
            -- out_of_range
            WHEN days_v NOT BETWEEN $pro_day_low AND $pro_day_high THEN ingest_fault('out_of_range', 'days_from_index')
            WHEN post_only AND days_v <= 0 THEN ingest_fault('out_of_range', 'days_from_index')
            WHEN value_v * coalesce(factor, 1.0) NOT BETWEEN low AND high THEN ingest_fault('out_of_range', 'value')
            WHEN is_integer AND value_v <> trunc(value_v) THEN ingest_fault('out_of_range', 'value')
        END AS fault
    FROM typed
)
SELECT
    line,
    site_id,
    patient_id,
    days_v AS days_from_index,
    instrument,
    value_v AS value,
    unit,
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
