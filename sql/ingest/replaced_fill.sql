-- Every live row of one history table that the window definition of the current rows does not pick
-- (greatest drop_id, then greatest line, per key): used once, when a warehouse starts maintaining
-- ingest.replaced_rows.
INSERT INTO ingest.replaced_rows (table_name, drop_id, version, line)
SELECT $table_name, drop_id, version, line
FROM (
    SELECT t.drop_id, t.version, t.line, struct_pack(*COLUMNS($key_cols)) AS k
    FROM query_table($table) t
    JOIN ingest.live_versions l ON l.drop_id = t.drop_id AND l.version = t.version
)
QUALIFY row_number() OVER (PARTITION BY k ORDER BY drop_id DESC, line DESC) > 1
