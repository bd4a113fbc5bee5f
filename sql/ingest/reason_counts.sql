-- Quarantined rows of the file being applied, per reason code.
SELECT reason_code, count(*) AS n
FROM ingest_checked
WHERE reason_code IS NOT NULL
GROUP BY reason_code
