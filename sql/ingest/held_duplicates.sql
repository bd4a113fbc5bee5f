-- Rows that pass every check and are identical (all contract columns, typed) to the current row of their
-- key, as it stands once this version replaces the previous version of the same drop (whose rows are
-- therefore not compared): duplicates, not inserted.
UPDATE ingest_checked c
SET duplicate = true
FROM (
    WITH passing AS (
        SELECT line, hash(*COLUMNS($key_cols)) AS key_hash, row(*COLUMNS($all_cols)) AS r
        FROM ingest_checked
        WHERE reason_code IS NULL AND NOT repeat
    ),
    held AS (
        SELECT t.drop_id, t.line, row(*COLUMNS($key_cols)) AS k, row(*COLUMNS($all_cols)) AS r
        FROM query_table($table) t
        JOIN ingest.live_versions l ON l.drop_id = t.drop_id AND l.version = t.version
        WHERE hash(*COLUMNS($key_cols)) IN (SELECT key_hash FROM passing)
            AND NOT coalesce(t.drop_id = $drop_id AND t.version = $prev_version, false)
    ),
    current_rows AS (
        SELECT r FROM held QUALIFY row_number() OVER (PARTITION BY k ORDER BY drop_id DESC, line DESC) = 1
    )
    SELECT line FROM passing WHERE r IN (SELECT r FROM current_rows)
) d
WHERE c.line = d.line
