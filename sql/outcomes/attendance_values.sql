-- Every assessment of the attendance instruments in staging.pro_visits (baseline included) of the attendance
-- models' patients, keyed by patient row: one join on the identifiers for all instruments, fetched once.
-- Columns: patient row, the instrument's position in $instruments (0-based), visit ordinal, value (canonical
-- units). Parameter: the instrument codes.
SELECT a.row::INTEGER AS row, (list_position($instruments::VARCHAR[], v.instrument) - 1)::INTEGER AS instrument,
       v.visit_ordinal, v.value
FROM staging.pro_visits v
JOIN attendance_input a USING (site_id, patient_id)
WHERE list_contains($instruments::VARCHAR[], v.instrument);
