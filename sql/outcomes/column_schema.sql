-- Columns of one table as written, for the dagster/column_schema metadata of every table asset
-- (assets/table_assets.py). Parameters: schema name, table name.
SELECT column_name, data_type
FROM information_schema.columns
WHERE table_schema = $schema AND table_name = $table
ORDER BY ordinal_position;
