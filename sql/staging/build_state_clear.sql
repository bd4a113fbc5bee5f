-- Forget the recorded state of one table (parameter: schema-qualified table name).
DELETE FROM staging.build_state WHERE table_name = $table;
