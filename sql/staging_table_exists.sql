-- Whether a base table exists (parameters: schema name, table name).
SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND NOT temporary;
