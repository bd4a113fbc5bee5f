-- Record numbers of the malformed records of the drop's files (quarantined as malformed_row).
INSERT INTO ingest_malformed
SELECT $file, CAST(unnest($lines) AS BIGINT)
