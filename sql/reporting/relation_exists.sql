-- Whether a table or a view exists (reports read both; sql/staging/table_exists.sql asks for base tables only).
SELECT count(*) FROM information_schema.tables WHERE table_schema = $schema AND table_name = $table
