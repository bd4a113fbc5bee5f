-- Ingest reconciliation: every drop version with its status, and per file the row accounting.
SELECT d.drop_id, d.version, d.status, d.reason_code, d.superseded_by,
       f.file, f.rows_read, f.accepted, f.quarantined, f.duplicates, f.superseded
FROM ingest.drop_versions d
LEFT JOIN ingest.drop_files f USING (drop_id, version)
ORDER BY d.drop_id, d.version, f.file;
