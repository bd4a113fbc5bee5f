-- staging.build_state: per patient-level table (staging.* and outcomes.pro_changes), what its last build
-- incorporated, so that the next build can rebuild only the patients whose current rows changed
-- (pipeline/incremental.py). No identifier: drop ids, versions, counts, a time and a fingerprint.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.build_state (
    table_name   VARCHAR   NOT NULL,   -- schema-qualified, e.g. 'staging.pro_assessments'
    fingerprint  VARCHAR   NOT NULL,   -- sha256 of the SQL and parameters of the build
    live_drops   VARCHAR[] NOT NULL,   -- live (drop_id, version) pairs of ingest.drop_versions, as two lists
    live_versions INTEGER[] NOT NULL,
    erasures     BIGINT    NOT NULL,   -- rows of ingest.erasures incorporated
    erased_until TIMESTAMP             -- the latest erased_at among them (NULL: none)
);
