-- Attrition (SAP 1): patients read, quarantined, accepted, outside the two arms and analysed. Rows of patient
-- files read and quarantined count delivered records (one per patient and delivery), not distinct patients.
SELECT 'patient_rows_read' AS step, NULL AS detail, sum(rows_read)::BIGINT AS n
FROM ingest.drop_files d JOIN ingest.drop_versions v USING (drop_id, version)
WHERE d.table_name = 'patients'
UNION ALL
SELECT 'patient_rows_quarantined', reason_code, count(*)
FROM ingest.quarantine q
WHERE q.file LIKE 'patients.%'
GROUP BY reason_code
UNION ALL
SELECT 'patients_accepted', NULL, count(*) FROM staging.patients
UNION ALL
SELECT 'patients_other_procedure', NULL, count(*) FROM staging.patients WHERE NOT in_analysis
UNION ALL
SELECT 'patients_analysed', procedure, count(*) FROM staging.patients WHERE in_analysis GROUP BY procedure;
