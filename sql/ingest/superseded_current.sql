-- Rows current before the file that will not be after it (no version corrected): the current rows that
-- an accepted row of the file meets and outranks (a greater drop_id wins; see ingest_current_match).
SELECT count(*)
FROM ingest_checked
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate AND cur_drop_id < $drop_id
