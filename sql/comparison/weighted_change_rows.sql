-- The rows of the temporary view comparison_weighted_changes (complete case or MAR: whichever of
-- sql/comparison/weighted_changes.sql / weighted_changes_mar.sql ran last), as arrays for the variance of the
-- adjusted differences that accounts for the propensity model's estimation (pipeline/comparison/ps_variance.py):
-- the patient's `row` in comparison.cohort, the change, the responder flag, the fixed factor of the row's weight,
-- and the group as one number: (position of the instrument in $instruments × 4096 + position of the visit in
-- $visits) × 2^32 + visit_ordinal + 2^31 (pipeline/comparison/cohort.py computes the same for each group). A join
-- with a table of group numbers cost twice the scan at 100,000 patients; strings are never fetched. Unordered.
-- No identifier.
SELECT (list_position($instruments, c.instrument)::BIGINT * 4096 + list_position($visits, c.visit)) * 4294967296
           + c.visit_ordinal::BIGINT + 2147483648 AS grp_key,
       c.row, c.change::DOUBLE AS change, c.responder::DOUBLE AS responder, c.factor::DOUBLE AS factor
FROM comparison_weighted_changes c;
