-- The rows of the file being applied with their line (record number, header = 1): no malformed record,
-- so the n-th row is line n + 1.
CREATE OR REPLACE TEMP VIEW ingest_stage AS
SELECT ordinal + 1 AS line, * EXCLUDE (ordinal) FROM ingest_raw
