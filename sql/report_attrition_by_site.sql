-- Attrition per site (SAP section 1): patient records read and quarantined (by the delivering drop's site,
-- from the drop folder name `<date>_<SITE>`), patients accepted by procedure group (by the patient's site).
-- One row per (site, step, detail); suppression happens in Python (pipeline/reporting/comparative.py).
WITH drop_site AS (
    SELECT drop_id, version, nullif(regexp_extract(drop_id, '^\d{4}-\d{2}-\d{2}_([A-Za-z0-9.-]+)$', 1), '') AS site
    FROM ingest.drop_versions
)
SELECT coalesce(s.site, '(unknown)') AS site, 'patient_rows_read' AS step, NULL AS detail, sum(d.rows_read)::BIGINT AS n
FROM ingest.drop_files d JOIN drop_site s USING (drop_id, version)
WHERE d.table_name = 'patients'
GROUP BY ALL
UNION ALL
SELECT coalesce(s.site, '(unknown)'), 'patient_rows_quarantined', NULL, count(*)
FROM ingest.quarantine q JOIN drop_site s USING (drop_id, version)
WHERE q.file LIKE 'patients.%'
GROUP BY ALL
UNION ALL
SELECT site_id, 'patients', CASE WHEN in_analysis THEN procedure ELSE 'other' END, count(*)
FROM staging.patients
GROUP BY ALL;
