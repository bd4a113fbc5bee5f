-- Drop the temporary tables of the attendance build.
DROP TABLE IF EXISTS attendance_values;
DROP TABLE IF EXISTS attendance_patients;
