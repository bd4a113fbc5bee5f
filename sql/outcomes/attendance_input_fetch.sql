-- The attendance models' patients (sql/outcomes/attendance_input.sql) without identifiers, in row order.
SELECT * EXCLUDE (row, site_id, patient_id, arm) FROM attendance_input ORDER BY row;
