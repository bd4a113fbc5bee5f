-- Patient rows to be accepted whose age was top-coded.
SELECT count(*) FROM ingest_checked
WHERE age_top_coded AND reason_code IS NULL AND NOT repeat AND NOT duplicate
