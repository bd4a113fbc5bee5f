-- Does the file being applied hold any identifier_in_text row? (Only then are identifier kinds named.)
SELECT count(*) > 0 FROM ingest_checked WHERE reason_code = 'identifier_in_text'
