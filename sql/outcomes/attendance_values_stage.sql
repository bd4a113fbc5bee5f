-- Every assessment of the attendance instruments in staging.pro_visits (baseline included) of the attendance
-- models' patients, keyed by patient row: one join on the identifiers for all instruments, as a temporary
-- table that sql/outcomes/attendance_values.sql then reads per instrument without joining again.
-- Parameter: the instrument codes.
CREATE OR REPLACE TEMP TABLE attendance_values AS
SELECT a.row, v.instrument, v.visit_ordinal, v.value
FROM staging.pro_visits v
JOIN attendance_patients a USING (site_id, patient_id)
WHERE list_contains($instruments::VARCHAR[], v.instrument);
