-- The staging view over the renumbered rows of ingest_stage_few_shifts.
CREATE OR REPLACE TEMP VIEW ingest_stage AS SELECT * FROM ingest_lined
