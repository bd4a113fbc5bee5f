-- Once ingest_checked holds a file's rows, the raw text of the file is no longer needed: free it early
-- (a large pro_responses file would otherwise sit in memory twice).
DROP VIEW IF EXISTS ingest_stage;
DROP TABLE IF EXISTS ingest_lined;
DROP TABLE IF EXISTS ingest_few_shifts;
DROP TABLE IF EXISTS ingest_raw;
DROP TABLE IF EXISTS ingest_shifts;
DROP TABLE IF EXISTS ingest_ids;
