-- Whether a durability.<name> table exists (one row: true or false); the name is the `$table` parameter.
SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema = 'durability' AND table_name = $table;
