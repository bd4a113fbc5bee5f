-- Per arm (treated), the eligible and assessed analysis patients of one instrument at one visit, and the share
-- of eligible patients not assessed weighted by the stored confounding weight (the population the adjusted
-- difference describes): the tipping point's share (SAP 3.1, pipeline/comparison/mar_differences.py).
-- Parameters: instrument, visit name.
SELECT r.treated, count(*) AS eligible, count(*) FILTER (WHERE a.assessed) AS assessed,
       fsum(r.weight) FILTER (WHERE NOT a.assessed) AS weight_unassessed, fsum(r.weight) AS weight_eligible,
       coalesce(fsum(r.weight) FILTER (WHERE NOT a.assessed), 0) / fsum(r.weight) AS share_unassessed
FROM outcomes.attendance_weights a
JOIN comparison.cohort r USING (site_id, patient_id)
WHERE a.eligible AND a.instrument = $instrument AND a.visit = $visit
GROUP BY r.treated
ORDER BY r.treated DESC;
