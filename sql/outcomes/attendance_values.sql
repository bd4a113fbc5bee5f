-- The assessments of one instrument (sql/outcomes/attendance_values_stage.sql): patient row, visit ordinal,
-- value (canonical units).
-- Parameter: instrument code.
SELECT row, visit_ordinal, value
FROM attendance_values
WHERE instrument = $instrument::VARCHAR;
