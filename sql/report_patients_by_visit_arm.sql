-- Patients of the analysis population with at least one assessment per visit, per procedure.
SELECT w.visit, w.ordinal, p.procedure, count(DISTINCT (v.site_id, v.patient_id)) AS patients
FROM staging.pro_visits v
JOIN staging.patients p USING (site_id, patient_id)
JOIN staging.visit_windows w USING (visit)
WHERE p.in_analysis
GROUP BY ALL
ORDER BY w.ordinal, p.procedure;
