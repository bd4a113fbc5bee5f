-- Tallies of the file being applied (malformed records are counted apart, from ingest_malformed).
SELECT
    count(*) AS parsed,
    count(*) FILTER (WHERE reason_code IS NULL AND (repeat OR duplicate)) AS duplicates,
    count(*) FILTER (WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate) AS accepted,
    count(*) FILTER (WHERE reason_code IS NOT NULL) AS quarantined
FROM ingest_checked
