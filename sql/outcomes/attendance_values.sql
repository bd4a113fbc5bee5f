-- Every assessment of one instrument in staging.pro_visits (baseline included) of the attendance models'
-- patients: patient row, visit ordinal, value (canonical units).
-- Parameter: instrument code.
SELECT a.row, v.visit_ordinal, v.value
FROM staging.pro_visits v
JOIN attendance_patients a USING (site_id, patient_id)
WHERE v.instrument = $instrument::VARCHAR;
