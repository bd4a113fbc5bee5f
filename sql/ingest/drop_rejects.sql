-- The rejects tables hold the raw text of bad records: they never outlive the read that made them.
DROP TABLE IF EXISTS ingest_rejects;
DROP TABLE IF EXISTS ingest_reject_scans;
