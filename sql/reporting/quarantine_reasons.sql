-- Quarantined rows per reason code (counts of rows, not of patients).
SELECT reason_code, count(*) AS rows
FROM ingest.quarantine
GROUP BY ALL
ORDER BY rows DESC, reason_code;
