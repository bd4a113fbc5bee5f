-- Malformed records of the drop being checked, per file.
CREATE OR REPLACE TEMP TABLE ingest_malformed (file VARCHAR, line BIGINT)
