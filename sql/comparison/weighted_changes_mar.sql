-- The MAR twin of sql/comparison/weighted_changes.sql (SAP 3.1): the same complete pairs, those of patients
-- eligible and assessed at the visit (outcomes.attendance_weights), weighted by the attendance weight × the
-- stored confounding weight. Where the attendance model fell back to complete case its weight is NULL or 1:
-- the row then keeps the confounding weight alone.
CREATE OR REPLACE TEMP VIEW comparison_weighted_changes AS
SELECT c.instrument, c.visit, c.visit_ordinal, r.treated, c.change, c.responder,
       r.weight * coalesce(a.weight, 1.0) AS weight
FROM outcomes.pro_changes c
JOIN comparison.cohort r USING (site_id, patient_id)
JOIN outcomes.attendance_weights a USING (site_id, patient_id, instrument, visit)
WHERE a.eligible AND a.assessed;
