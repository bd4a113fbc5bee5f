-- Does the warehouse already maintain ingest.replaced_rows (and read the current rows through it)?
SELECT count(*) > 0
FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'ingest' AND table_name = 'replaced_rows'
