-- Whether a base table exists (parameters: schema name, table name).
SELECT count(*) FROM duckdb_tables() WHERE schema_name = $schema AND table_name = $table AND NOT temporary;
