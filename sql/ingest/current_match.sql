-- For each row of the file that passes every check, the current row of its key, if any (no version is
-- being corrected, so the current rows are those the file will be compared with and may replace): the
-- row is a duplicate when identical to it (all contract columns, typed), and otherwise records which row
-- it meets (cur_drop_id, cur_version, cur_line), for the supersession count and ingest.replaced_rows.
-- The 64-bit key hash preselects the current rows; the join compares the keys themselves.
UPDATE ingest_checked c
SET duplicate = m.same, cur_drop_id = m.drop_id, cur_version = m.version, cur_line = m.cur_line
FROM (
    WITH passing AS (
        SELECT line, hash(*COLUMNS($key_cols)) AS key_hash, row(*COLUMNS($key_cols)) AS k,
            row(*COLUMNS($all_cols)) AS r
        FROM ingest_checked
        WHERE reason_code IS NULL AND NOT repeat
    ),
    held AS (
        SELECT drop_id, version, line, row(*COLUMNS($key_cols)) AS k, row(*COLUMNS($all_cols)) AS r
        FROM query_table($current)
        -- the site filter lets DuckDB skip the row groups of other sites' drops (zone maps)
        WHERE site_id IN (SELECT DISTINCT site_id FROM ingest_checked WHERE reason_code IS NULL)
            AND hash(*COLUMNS($key_cols)) IN (SELECT key_hash FROM passing)
    )
    SELECT p.line AS new_line, h.drop_id, h.version, h.line AS cur_line, p.r = h.r AS same
    FROM passing p
    JOIN held h ON p.k = h.k
) m
WHERE c.line = m.new_line
