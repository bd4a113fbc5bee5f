-- Every quarantine row names a reason code of the contract and the line it came from (parameter $reason_codes).
SELECT count(*) FILTER (WHERE NOT list_contains($reason_codes, reason_code) OR line IS NULL OR line < 1) AS failures,
       count(*) AS checked
FROM ingest.quarantine;
