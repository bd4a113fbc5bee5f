-- The analysis population of sql/comparison/input.sql without identifiers, in row order.
SELECT * EXCLUDE (row, site_id, patient_id, arm_role) FROM comparison_input ORDER BY row;
