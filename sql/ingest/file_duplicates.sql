-- Rows of one file that pass every check so far and share their key with another such row. A key whose
-- rows differ in any value conflicts (all its rows are quarantined); identical rows are repeats (all but
-- the first are duplicates). The 64-bit key hash only preselects the few candidate rows; the decision
-- compares the values themselves.
CREATE OR REPLACE TEMP TABLE ingest_file_dups AS
WITH passing AS (
    SELECT hash(*COLUMNS($key_cols)) AS key_hash FROM ingest_checked WHERE reason_code IS NULL
),
-- equal neighbours in key_hash order; a sort is cheaper than grouping tens of millions of distinct keys
shared AS (
    SELECT DISTINCT key_hash
    FROM (SELECT key_hash, key_hash = lag(key_hash) OVER (ORDER BY key_hash) AS again FROM passing)
    WHERE again
),
candidates AS (
    SELECT line, row(*COLUMNS($key_cols)) AS k, row(*COLUMNS($all_cols)) AS r
    FROM ingest_checked
    WHERE reason_code IS NULL AND hash(*COLUMNS($key_cols)) IN (SELECT key_hash FROM shared)
)
SELECT
    line,
    count(DISTINCT r) OVER (PARTITION BY k) > 1 AS conflicting,
    row_number() OVER (PARTITION BY k, r ORDER BY line) > 1 AS repeat
FROM candidates
