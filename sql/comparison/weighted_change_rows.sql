-- The rows of the temporary table comparison_change_rows (sql/comparison/change_rows.sql), in its patient
-- order, as arrays for the variance of the adjusted differences that accounts for the propensity model's
-- estimation (pipeline/comparison/ps_variance.py): the group number, the patient's `row` in comparison.cohort,
-- the change, the responder flag and the fixed factor of the row's weight. No identifier.
SELECT c.grp_key, c.row, c.change, c.responder::DOUBLE AS responder, c.factor
FROM comparison_change_rows c;
