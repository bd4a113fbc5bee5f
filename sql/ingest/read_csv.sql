-- One CSV file into ingest_raw: every column VARCHAR, no sniffing, only the contract columns kept. The
-- table keeps file order (preserve_insertion_order, phase 1 runs outside any transaction), so a row's
-- position among the rows DuckDB parsed is its rowid + 1 (the `ordinal` of the ingest_stage views;
-- ingest_raw_count checks that the rowids run from 0). A row_number() over the scan gave the same ordinal
-- but made DuckDB parse the file on one thread. Malformed records (wrong field count, bad quoting) do not
-- fail the read: DuckDB lists them in the temp table ingest_rejects, whose `line` is the record number
-- (header = 1).
CREATE OR REPLACE TEMP TABLE ingest_raw AS
SELECT COLUMNS($keep)
FROM read_csv(
    $path, columns = $columns, header = true, auto_detect = false,
    delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false,
    store_rejects = true, rejects_table = 'ingest_rejects', rejects_scan = 'ingest_reject_scans', rejects_limit = 0
)
