-- The rows of the file being applied with their line: ordinal (rowid + 1) + 1, plus one per malformed
-- record at or before the row (ingest_few_shifts, one row).
CREATE OR REPLACE TEMP VIEW ingest_stage AS
SELECT r.ordinal + 1 + len(list_filter(s.from_ordinals, f -> f <= r.ordinal)) AS line, r.* EXCLUDE (ordinal)
FROM (SELECT rowid + 1 AS ordinal, * FROM ingest_raw) r CROSS JOIN ingest_few_shifts s
