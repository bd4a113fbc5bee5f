-- Row checks of events.csv/.parquet: typed values and the first failing rule of each row, in the order
-- of contract.REASON_CODES (the CASE order is the precedence). Duplicates, erased_patient and orphan are
-- settled afterwards. detail is free text: it is always scanned for identifiers.
CREATE OR REPLACE TEMP TABLE ingest_checked AS
WITH parsed AS (
    SELECT
        s.*, i.site_ok, i.patient_ok, i.site_hit, i.patient_hit, i.patient_state,
        TRY_CAST(s.days_from_index AS DOUBLE) AS days_d
    FROM ingest_stage s
    JOIN ingest_ids i ON i.site_id IS NOT DISTINCT FROM s.site_id AND i.patient_id IS NOT DISTINCT FROM s.patient_id
),
typed AS (
    SELECT *, ingest_as_int(days_d) AS days_v FROM parsed
),
judged AS (
    SELECT
        *,
        CASE
            WHEN NOT site_ok THEN ingest_fault('invalid_id', 'site_id')
            WHEN NOT patient_ok THEN ingest_fault('invalid_id', 'patient_id')
            WHEN site_hit THEN ingest_hit('site_id', site_id)
            WHEN patient_hit THEN ingest_hit('patient_id', patient_id)
            WHEN ingest_not_number(days_from_index, days_d) AND regexp_matches(days_from_index, $ident_any)
                THEN ingest_hit('days_from_index', days_from_index)
            WHEN NOT list_contains($event_codes, event) AND regexp_matches(event, $ident_any) THEN ingest_hit('event', event)
            WHEN regexp_matches(detail, $ident_any) THEN ingest_hit('detail', detail)
            WHEN days_from_index IS NULL THEN ingest_fault('missing_value', 'days_from_index')
            WHEN event IS NULL THEN ingest_fault('missing_value', 'event')
            WHEN days_v IS NULL THEN ingest_fault('invalid_type', 'days_from_index')
            WHEN NOT list_contains($event_codes, event) THEN ingest_fault('unknown_code', 'event')
            WHEN days_v NOT BETWEEN $event_day_low AND $event_day_high
                THEN ingest_fault('out_of_range', 'days_from_index')
            WHEN length(detail) > $detail_max_chars THEN ingest_fault('text_too_long', 'detail')
        END AS fault
    FROM typed
)
SELECT
    line,
    site_id,
    patient_id,
    days_v AS days_from_index,
    event,
    detail,
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
