-- Satisfied (value <= satisfied_max) per analysis patient (its `row`, comparison.cohort) with a value
-- of the primary satisfaction definition's instrument at the primary visit (SAP section 3).
-- Parameters: instrument, satisfied_max, visit name.
WITH params AS (SELECT $instrument::VARCHAR AS instrument, $satisfied_max::DOUBLE AS satisfied_max, $visit::VARCHAR AS visit)
SELECT r.row, (v.value <= params.satisfied_max)::DOUBLE AS satisfied
FROM staging.pro_visits v
JOIN comparison.cohort r USING (site_id, patient_id), params
WHERE v.instrument = params.instrument AND v.visit = params.visit
ORDER BY r.row;
