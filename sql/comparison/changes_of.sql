-- The change from baseline of one instrument at one visit per analysis patient (its `row`,
-- comparison.cohort), in row order: the subgroup forest plot needs only the primary ODI change.
-- Parameters: instrument, visit name.
SELECT r.row, c.change::DOUBLE AS change
FROM outcomes.pro_changes c
JOIN comparison.cohort r USING (site_id, patient_id)
WHERE c.instrument = $instrument AND c.visit = $visit
ORDER BY r.row;
