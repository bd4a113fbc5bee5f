-- Rows current before the file is applied that will not be after it. Applying a file removes the rows of
-- the version it corrects from the live set and adds its accepted rows, so a current row stops being
-- current iff it belongs to the corrected version, or the file inserts a row with its key from a drop
-- that sorts after its own (the current_* views prefer the greatest drop_id).
SELECT count(*)
FROM ingest_before b
WHERE (b.drop_id = $drop_id AND b.version = $prev_version)
    OR (b.drop_id < $drop_id AND b.k IN (
        SELECT struct_pack(*COLUMNS($key_cols)) FROM query_table($result)
        WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate
    ))
