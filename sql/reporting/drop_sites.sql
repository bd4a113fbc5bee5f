-- The sites of each drop version, from its rows' own site_id (ingest.drop_file_sites; the folder name says
-- nothing about them). Rows with an invalid site_id appear as '(invalid site id)'.
SELECT drop_id, version, list(DISTINCT site_id ORDER BY site_id) AS sites
FROM ingest.drop_file_sites
GROUP BY ALL
