-- Drop the temporary table of the attendance build.
DROP TABLE IF EXISTS attendance_input;
