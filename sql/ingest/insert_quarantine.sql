-- Quarantined rows of the file: where they were and why, never a value (ids only when valid and not
-- themselves an identifier hit).
INSERT INTO ingest.quarantine (
    drop_id, version, file, line, reason_code, column_name, identifier_kind, site_id, patient_id
)
SELECT
    $drop_id, $version, $file, line, reason_code, column_name, identifier_kind,
    CASE WHEN site_keep THEN site_id END,
    CASE WHEN patient_keep THEN patient_id END
FROM query_table($result)
WHERE reason_code IS NOT NULL
UNION ALL
SELECT $drop_id, $version, $file, line, 'malformed_row', NULL, NULL, NULL, NULL
FROM ingest_malformed
WHERE file = $file
