-- The reconciliation of one file split by the rows' site (a drop may hold the rows of many sites): one row
-- per site_id, or per contract.INVALID_SITE for rows whose site_id is invalid, itself an identifier, or
-- unreadable (malformed records). The sums over a file's sites are its drop_files counts.
INSERT INTO ingest.drop_file_sites (drop_id, version, file, site_id, rows_read, accepted, quarantined, duplicates)
SELECT $drop_id, $version, $file, s.site_id, s.rows_read, s.accepted, s.quarantined, s.duplicates
FROM (
    SELECT
        unnest($site_ids) AS site_id,
        unnest($rows_read) AS rows_read,
        unnest($accepted) AS accepted,
        unnest($quarantined) AS quarantined,
        unnest($duplicates) AS duplicates
) s
