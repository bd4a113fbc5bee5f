-- The record numbers of the file being applied, when few malformed records precede its rows (the usual
-- case): a row comes one record later per entry of $from_ordinal (one per malformed record, in order) at
-- or before its ordinal. The short list is kept in a one-row table (a view cannot hold a parameter) and
-- applied by the view ingest_stage (ingest_stage_lined) as the checks read the rows: a renumbered copy of
-- the file cost about as much as reading it. Counting in a short list also avoids the ASOF join of
-- ingest_stage_shifted, which sorts the whole file.
CREATE OR REPLACE TEMP TABLE ingest_few_shifts AS SELECT CAST($from_ordinal AS BIGINT[]) AS from_ordinals
