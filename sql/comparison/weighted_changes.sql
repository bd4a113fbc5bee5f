-- The rows sql/comparison/change_rows.sql stores (and change_sums.sql aggregates), complete case (SAP 6): per
-- analysis patient, instrument and post-baseline visit with a complete pair (outcomes.pro_changes), its change,
-- responder flag and the stored confounding weight (comparison.cohort). A temporary view, so that the one sums
-- model serves both weightings: its MAR twin is sql/comparison/weighted_changes_mar.sql. `row` (the patient in
-- comparison.cohort) and `factor` (the part of the weight that is not the confounding weight: 1 here) serve
-- sql/comparison/weighted_change_rows.sql.
CREATE OR REPLACE TEMP VIEW comparison_weighted_changes AS
SELECT c.instrument, c.visit, c.visit_ordinal, r.treated, c.change, c.responder, r.weight, r.row, 1.0::DOUBLE AS factor
FROM outcomes.pro_changes c
JOIN comparison.cohort r USING (site_id, patient_id);
