-- The supersession bookkeeping of one file is counted: free it.
DROP TABLE IF EXISTS ingest_affected;
DROP TABLE IF EXISTS ingest_before;
