-- Applies ingest_file_dups: conflicting rows are quarantined, repeats flagged (they may still be
-- quarantined as erased_patient or orphan, like the row they repeat).
UPDATE ingest_checked c
SET
    reason_code = CASE WHEN d.conflicting THEN 'conflicting_duplicate' END,
    column_name = NULL,
    repeat = NOT d.conflicting AND d.repeat
FROM ingest_file_dups d
WHERE c.line = d.line AND (d.conflicting OR d.repeat)
