-- The rows of the file being applied with their line, when few malformed records precede them (the usual
-- case): a row comes one record later per entry of $from_ordinal (one per malformed record, in order) at
-- or before its ordinal. Counting in a short list avoids the ASOF join of ingest_stage_shifted, which sorts
-- the whole file.
CREATE OR REPLACE TEMP TABLE ingest_lined AS
SELECT ordinal + 1 + len(list_filter($from_ordinal, f -> f <= ordinal)) AS line, * EXCLUDE (ordinal)
FROM ingest_raw
