-- outcomes.attendance_weights was a table before it became a view (sql/outcomes/attendance_weights_view.sql):
-- a warehouse built by an older version has the table, which CREATE VIEW cannot replace.
DROP TABLE IF EXISTS outcomes.attendance_weights;
