-- The current rows of the affected keys before the drop is applied (phase 1 reads the committed
-- warehouse, where the version being corrected is still live), by the rule of the ingest.current_* views:
-- greatest drop_id, then greatest line.
CREATE OR REPLACE TEMP TABLE ingest_before AS
SELECT drop_id, version, k
FROM (
    SELECT t.drop_id, t.version, t.line, struct_pack(*COLUMNS($key_cols)) AS k
    FROM query_table($table) t
    JOIN ingest.live_versions l ON l.drop_id = t.drop_id AND l.version = t.version
    WHERE hash(*COLUMNS($key_cols)) IN (SELECT key_hash FROM ingest_affected)
)
QUALIFY row_number() OVER (PARTITION BY k ORDER BY drop_id DESC, line DESC) = 1
