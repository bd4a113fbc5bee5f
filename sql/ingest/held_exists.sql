-- Does the warehouse hold live rows of this table for the sites of the file (the version this drop corrects
-- aside)? If not (a first delivery), the duplicate and supersession steps have nothing to compare with.
SELECT EXISTS (
    SELECT 1
    FROM query_table($table) t
    JOIN ingest.live_versions l ON l.drop_id = t.drop_id AND l.version = t.version
    WHERE t.site_id IN (SELECT DISTINCT site_id FROM ingest_checked WHERE reason_code IS NULL)
        AND NOT coalesce(t.drop_id = $drop_id AND t.version = $prev_version, false)
)
