-- Attrition per site (SAP section 1): patient records read and quarantined, by each row's own site_id
-- (ingest.drop_file_sites: a drop may hold the rows of many sites, and its folder name says nothing about
-- them; rows with an invalid site_id are counted under '(invalid site id)'), then patients accepted by
-- procedure group (by the patient's site). Every drop version counts, as in ingest.drop_files.
-- One row per (site, step, detail); suppression happens in Python (pipeline/reporting/comparative.py).
SELECT site_id AS site, 'patient_rows_read' AS step, NULL AS detail, sum(rows_read)::BIGINT AS n
FROM ingest.drop_file_sites
WHERE file LIKE 'patients.%'
GROUP BY ALL
UNION ALL
SELECT site_id, 'patient_rows_quarantined', NULL, sum(quarantined)::BIGINT
FROM ingest.drop_file_sites
WHERE file LIKE 'patients.%'
GROUP BY ALL
UNION ALL
SELECT site_id, 'patients', CASE WHEN in_analysis THEN procedure ELSE 'other' END, count(*)
FROM staging.patients
GROUP BY ALL;
