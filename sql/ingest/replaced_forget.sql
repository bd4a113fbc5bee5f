-- Phase 2 of a correction: the entries of ingest.replaced_rows that it may change go, before
-- ingest_replaced_refill recomputes them: those of the corrected version, and those of every row whose key
-- the correction touches (ingest_affected).
DELETE FROM ingest.replaced_rows r
WHERE r.table_name = $table_name AND (
    (r.drop_id = $drop_id AND r.version = $prev_version)
    OR EXISTS (
        SELECT 1 FROM query_table($table) t
        WHERE t.drop_id = r.drop_id AND t.version = r.version AND t.line = r.line
            AND hash(*COLUMNS($key_cols)) IN (SELECT key_hash FROM ingest_affected)
    )
)
