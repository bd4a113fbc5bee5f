-- Rows of the file being applied that DuckDB parsed, and whether their rowids run from 0 to count - 1 (the
-- ordinals of the ingest_stage views are rowid + 1; rowids of a table created inside a transaction do not
-- start at 0, and phase 1 must not run inside one).
SELECT count(*), coalesce(min(rowid) = 0 AND max(rowid) = count(*) - 1, true) FROM ingest_raw
