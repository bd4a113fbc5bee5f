-- The rows of the temporary view comparison_weighted_changes (complete case or MAR: whichever of
-- sql/comparison/weighted_changes.sql / weighted_changes_mar.sql ran last) stored once per call as a temporary
-- table, so that the view's joins run once, on every thread: sql/comparison/change_sums.sql aggregates the table
-- on one thread (`SET threads = 1` in pipeline/comparison/cohort.change_differences) and sql/comparison/weighted_change_rows.sql fetches it
-- (pipeline/comparison/cohort.change_differences). ORDER BY row: the rows of a parallel join come in any order,
-- and the one-thread sums must read each group's rows in the same order on every refresh: a patient has one row
-- per group (instrument, visit), so patient order fixes the order within every group (sorting by the group too
-- cost ~2 s more at 1,000,000 patients). Patient order is also the order in which
-- pipeline/comparison/ps_variance.variance_corrections reads the rows without a copy. The group as one number:
-- (position of the instrument in $instruments × $visit_slots + position of the visit in $visits) × $key_shift
-- + visit_ordinal + $ordinal_offset (the constants of pipeline/comparison/cohort.py, which decodes it). Strings are never stored. No identifier.
CREATE OR REPLACE TEMP TABLE comparison_change_rows AS
SELECT c.row::INTEGER AS row,
       (list_position($instruments, c.instrument)::BIGINT * $visit_slots + list_position($visits, c.visit))
           * $key_shift + c.visit_ordinal::BIGINT + $ordinal_offset AS grp_key,
       c.treated, c.change::DOUBLE AS change, c.responder, c.weight::DOUBLE AS weight, c.factor::DOUBLE AS factor
FROM comparison_weighted_changes c
ORDER BY row;
