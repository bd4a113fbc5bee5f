-- Satisfied (value <= satisfied_max) per analysis patient with a value of the primary satisfaction
-- definition's instrument at the primary visit (SAP section 3).
-- Parameters: instrument, satisfied_max, visit name.
WITH params AS (SELECT ?::VARCHAR AS instrument, ?::DOUBLE AS satisfied_max, ?::VARCHAR AS visit)
SELECT v.site_id, v.patient_id, (v.value <= params.satisfied_max)::DOUBLE AS satisfied
FROM staging.pro_visits v
JOIN staging.patients p USING (site_id, patient_id), params
WHERE p.in_analysis AND v.instrument = params.instrument AND v.visit = params.visit
ORDER BY v.site_id, v.patient_id;
