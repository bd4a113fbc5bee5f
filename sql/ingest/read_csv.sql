-- One CSV file into ingest_raw: every column VARCHAR, no sniffing, only the contract columns kept, and
-- `ordinal`, the row's position among the rows DuckDB parsed (row_number() over the scan keeps file order;
-- rowid does not do inside a transaction). Malformed records (wrong field count, bad quoting) do not fail
-- the read: DuckDB lists them in the temp table ingest_rejects, whose `line` is the record number
-- (header = 1).
CREATE OR REPLACE TEMP TABLE ingest_raw AS
SELECT row_number() OVER () AS ordinal, COLUMNS($keep)
FROM read_csv(
    $path, columns = $columns, header = true, auto_detect = false,
    delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false,
    store_rejects = true, rejects_table = 'ingest_rejects', rejects_scan = 'ingest_reject_scans', rejects_limit = 0
)
