-- Phase 2 of a correction, after its rows are inserted and the corrected version is no longer live (and
-- ingest_replaced_forget cleared the old entries): the live rows of the keys it touches (ingest_affected:
-- those of its accepted rows and of the corrected version's rows) that the window definition of the
-- current rows does not pick. A key hash collision merely recomputes one more key.
INSERT INTO ingest.replaced_rows (table_name, drop_id, version, line)
SELECT $table_name, drop_id, version, line
FROM (
    SELECT t.drop_id, t.version, t.line, struct_pack(*COLUMNS($key_cols)) AS k
    FROM query_table($table) t
    JOIN ingest.live_versions l ON l.drop_id = t.drop_id AND l.version = t.version
    WHERE hash(*COLUMNS($key_cols)) IN (SELECT key_hash FROM ingest_affected)
)
QUALIFY row_number() OVER (PARTITION BY k ORDER BY drop_id DESC, line DESC) > 1
