-- Every assessment of the attendance instruments in staging.pro_visits (baseline included) of the attendance
-- models' patients, keyed by patient row: one join on the identifiers for all instruments, fetched once.
-- Columns: `cell`, the value's position in the instruments × visits × patients array the builder fills
-- (instrument: 0-based position in $instruments; visit ordinal; patient row), and the value (canonical
-- units). Parameters: the instrument codes, the number of visits and of patients.
SELECT (((list_position($instruments::VARCHAR[], v.instrument) - 1)::BIGINT * $visits::BIGINT + v.visit_ordinal)
        * $patients::BIGINT + a.row)::BIGINT AS cell,
       v.value
FROM staging.pro_visits v
JOIN attendance_input a USING (site_id, patient_id)
WHERE list_contains($instruments::VARCHAR[], v.instrument);
