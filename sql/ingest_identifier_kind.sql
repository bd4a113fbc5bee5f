-- Names the identifier found in rows quarantined as identifier_in_text: run once per pattern of
-- contract.IDENTIFIER_TEXT_PATTERNS, in order, so the first matching pattern names the kind.
UPDATE ingest_checked
SET identifier_kind = $kind
WHERE reason_code = 'identifier_in_text' AND identifier_kind IS NULL AND regexp_matches(ident_value, $pattern)
