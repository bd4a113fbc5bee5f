-- The rows of the file being applied with their line, skipping the record numbers of malformed records
-- (ordinal = rowid + 1, see ingest_read_csv).
CREATE OR REPLACE TEMP TABLE ingest_lined AS
SELECT r.ordinal + 1 + coalesce(s.shift, 0) AS line, r.* EXCLUDE (ordinal)
FROM (SELECT rowid + 1 AS ordinal, * FROM ingest_raw) r ASOF LEFT JOIN ingest_shifts s ON r.ordinal >= s.from_ordinal;

CREATE OR REPLACE TEMP VIEW ingest_stage AS SELECT * FROM ingest_lined;
