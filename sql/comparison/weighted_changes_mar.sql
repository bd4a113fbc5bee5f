-- The MAR twin of sql/comparison/weighted_changes.sql (SAP 3.1): the same complete pairs, those of patients
-- eligible and assessed at the visit (outcomes.attendance_weights), weighted by the attendance weight × the
-- stored confounding weight. Where the attendance model fell back to complete case its weight is 1 (NULL taken
-- as 1): the row then keeps the confounding weight alone. `factor`: the attendance weight, the fixed part of the
-- row's weight for the variance that accounts for the propensity model (sql/comparison/weighted_change_rows.sql).
-- Read from the view's stored form (sql/outcomes/attendance_weights_view.sql): the pairs are matched to the
-- attendance patients and models on the identifiers (100,000 patients at 100,000, not the millions of
-- attendance rows), then to the attendance rows on integers (a join on four text keys cost ~20% more when the
-- sums ran over this view on one thread; its rows are now stored once by sql/comparison/change_rows.sql).
CREATE OR REPLACE TEMP VIEW comparison_weighted_changes AS
WITH pairs AS MATERIALIZED (
    SELECT p.patient, m.model, c.instrument, c.visit, c.visit_ordinal, r.treated, c.change, c.responder,
           r.weight, r.row
    FROM outcomes.pro_changes c
    JOIN outcomes.attendance_patients p USING (site_id, patient_id)
    JOIN outcomes.attendance_models m USING (instrument, visit)
    JOIN comparison.cohort r USING (site_id, patient_id)
)
SELECT c.instrument, c.visit, c.visit_ordinal, c.treated, c.change, c.responder,
       c.weight * coalesce(a.weight, 1.0) AS weight, c.row, coalesce(a.weight, 1.0) AS factor
FROM pairs c
JOIN outcomes.attendance_rows a USING (model, patient)
WHERE a.eligible AND a.assessed;
