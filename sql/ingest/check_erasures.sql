-- Row checks of erasures.csv/.parquet: valid ids that do not look like direct identifiers.
CREATE OR REPLACE TEMP TABLE ingest_checked AS
SELECT
    s.line,
    s.site_id,
    s.patient_id,
    f.fault.code AS reason_code,
    f.fault.col AS column_name,
    f.fault.val AS ident_value,
    CAST(NULL AS VARCHAR) AS identifier_kind,
    i.site_ok AND NOT i.site_hit AS site_keep,
    i.patient_ok AND NOT i.patient_hit AS patient_keep,
    CAST(NULL AS VARCHAR) AS patient_state,
    false AS repeat,
    false AS duplicate
FROM ingest_stage s
JOIN ingest_ids i ON i.site_id IS NOT DISTINCT FROM s.site_id AND i.patient_id IS NOT DISTINCT FROM s.patient_id
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN NOT i.site_ok THEN ingest_fault('invalid_id', 'site_id')
        WHEN NOT i.patient_ok THEN ingest_fault('invalid_id', 'patient_id')
        WHEN i.site_hit THEN ingest_hit('site_id', s.site_id)
        WHEN i.patient_hit THEN ingest_hit('patient_id', s.patient_id)
    END AS fault
) f
