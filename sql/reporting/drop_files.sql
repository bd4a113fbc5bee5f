-- Per drop version and file: the row accounting of ingest (rows, not patients).
SELECT drop_id, version, file, table_name, rows_read, accepted, quarantined, duplicates, superseded
FROM ingest.drop_files
ORDER BY drop_id, version, file;
