-- Change from baseline and responder flag (selected MCID rule) per analysis patient, instrument and
-- post-baseline visit, from outcomes.pro_changes (complete pairs only, as in SAP section 3), as the patient's
-- `row` (comparison.cohort) and the group number of sql/comparison/change_groups.sql. Unordered: sorting
-- 25 million rows here costs more than restoring (group, row) order in numpy (pipeline/comparison/cohort.py).
WITH groups AS (
    SELECT instrument, visit, visit_ordinal,
           (row_number() OVER (ORDER BY instrument, visit, visit_ordinal) - 1)::SMALLINT AS grp
    FROM (SELECT DISTINCT instrument, visit, visit_ordinal FROM outcomes.pro_changes)
)
SELECT g.grp, r.row, c.change::DOUBLE AS change, c.responder::DOUBLE AS responder
FROM outcomes.pro_changes c
JOIN comparison.cohort r USING (site_id, patient_id)
JOIN groups g USING (instrument, visit, visit_ordinal);
