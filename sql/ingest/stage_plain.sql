-- The rows of the file being applied with their line (record number, header = 1): no malformed record,
-- so the n-th row (ordinal n = rowid + 1) is line n + 1.
CREATE OR REPLACE TEMP VIEW ingest_stage AS
SELECT rowid + 2 AS line, * FROM ingest_raw
