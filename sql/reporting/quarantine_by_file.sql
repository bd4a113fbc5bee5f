-- Quarantined rows per drop version, file and reason code (counts of rows, no value).
SELECT drop_id, version, file, reason_code, count(*) AS rows
FROM ingest.quarantine
GROUP BY ALL
ORDER BY drop_id, version, file, reason_code;
