-- Rows of the file being applied that DuckDB parsed.
SELECT count(*) FROM ingest_raw
