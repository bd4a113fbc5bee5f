-- Reconciliation of one file of one drop version.
INSERT INTO ingest.drop_files (
    drop_id, version, file, table_name, sha256, bytes, rows_read, accepted, quarantined, duplicates, superseded
)
VALUES (
    $drop_id, $version, $file, $table_name, $sha256, $bytes, $rows_read, $accepted, $quarantined, $duplicates,
    $superseded
)
