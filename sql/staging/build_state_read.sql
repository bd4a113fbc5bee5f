-- The recorded state of one table (parameter: schema-qualified table name).
SELECT fingerprint, live_drops, live_versions, erasures, erased_until
FROM staging.build_state
WHERE table_name = $table;
