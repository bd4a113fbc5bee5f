-- Drops the temporary tables of a drop (some hold raw delivered text): nothing outlives its use. Runs after
-- sql/ingest/drop_stage.sql, which drops the staged raw text.
DROP TABLE IF EXISTS ingest_rejects;
DROP TABLE IF EXISTS ingest_reject_scans;
DROP TABLE IF EXISTS ingest_checked;
DROP TABLE IF EXISTS ingest_file_dups;
DROP TABLE IF EXISTS ingest_result_patients;
DROP TABLE IF EXISTS ingest_result_pro_responses;
DROP TABLE IF EXISTS ingest_result_events;
DROP TABLE IF EXISTS ingest_result_erasures;
DROP TABLE IF EXISTS ingest_drop_patients;
DROP TABLE IF EXISTS ingest_malformed;
DROP TABLE IF EXISTS ingest_affected;
DROP TABLE IF EXISTS ingest_before;
DROP TABLE IF EXISTS ingest_erase_now;
