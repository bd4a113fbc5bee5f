-- Keys whose current row a file may change: those of the rows it will insert, and those of the rows of
-- the version it corrects. Hashes suffice here: a colliding key only adds a key whose row does not change.
CREATE OR REPLACE TEMP TABLE ingest_affected AS
SELECT hash(*COLUMNS($key_cols)) AS key_hash
FROM query_table($result)
WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate
UNION ALL
SELECT hash(*COLUMNS($key_cols))
FROM query_table($table)
WHERE drop_id = $drop_id AND version = $prev_version
