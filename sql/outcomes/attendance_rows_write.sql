-- Append rows to outcomes.attendance_rows (sql/outcomes/attendance_rows_table.sql): the rows of the models of one
-- visit, computed in Python (registered as _attendance_rows: model, patient row, eligible, assessed, weight).
INSERT INTO outcomes.attendance_rows
SELECT model, patient, eligible, assessed, weight
FROM _attendance_rows;
