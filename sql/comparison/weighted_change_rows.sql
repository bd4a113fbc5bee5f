-- The rows of the temporary view comparison_weighted_changes (complete case or MAR: whichever of
-- sql/comparison/weighted_changes.sql / weighted_changes_mar.sql ran last), as arrays for the variance of the
-- adjusted differences that accounts for the propensity model's estimation (pipeline/comparison/ps_variance.py):
-- the patient's `row` in comparison.cohort, the group number (the (instrument, visit, visit_ordinal) order of
-- sql/comparison/weighted_change_groups.sql), the change, the responder flag and the fixed factor of the row's
-- weight. Unordered: numpy restores (group, row) order (pipeline/comparison/cohort.py). No identifier.
WITH groups AS (
    SELECT instrument, visit, visit_ordinal,
           (row_number() OVER (ORDER BY instrument, visit, visit_ordinal) - 1)::SMALLINT AS grp
    FROM (SELECT DISTINCT instrument, visit, visit_ordinal FROM comparison_weighted_changes)
)
SELECT g.grp, c.row, c.change::DOUBLE AS change, c.responder::DOUBLE AS responder, c.factor::DOUBLE AS factor
FROM comparison_weighted_changes c
JOIN groups g USING (instrument, visit, visit_ordinal);
