-- The attendance models' patients (sql/outcomes/attendance_patients.sql) without identifiers, in row order.
SELECT * EXCLUDE (row, site_id, patient_id, arm) FROM attendance_patients ORDER BY row;
