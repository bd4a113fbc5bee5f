-- Names the identifier found in rows quarantined as identifier_in_text: run once per pattern, in order, so
-- the first matching pattern names the kind. Key columns (site_id, patient_id) were judged by
-- contract.KEY_IDENTIFIER_PATTERNS and are named by them ($keys true); every other column by
-- contract.IDENTIFIER_TEXT_PATTERNS ($keys false).
UPDATE ingest_checked
SET identifier_kind = $kind
WHERE reason_code = 'identifier_in_text' AND identifier_kind IS NULL
    AND list_contains($key_columns, column_name) = $keys
    AND regexp_matches(ident_value, $pattern)
