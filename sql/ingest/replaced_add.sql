-- Phase 2 of a file when no version is corrected: each accepted row that meets a current row of its key
-- replaces it when its drop sorts later, and is itself replaced (stored as history only) when it sorts
-- earlier, which happens when a drop is delivered out of order.
INSERT INTO ingest.replaced_rows (table_name, drop_id, version, line)
SELECT $table_name, cur_drop_id, cur_version, cur_line
FROM query_table($result)
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate AND cur_drop_id < $drop_id
UNION ALL
SELECT $table_name, $drop_id, $version, line
FROM query_table($result)
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate AND cur_drop_id > $drop_id
