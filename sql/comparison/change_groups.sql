-- The (instrument, visit, visit_ordinal) groups of outcomes.pro_changes, numbered as in
-- sql/comparison/changes.sql, with their number of rows among the analysis patients (0: left out).
WITH groups AS (
    SELECT instrument, visit, visit_ordinal,
           (row_number() OVER (ORDER BY instrument, visit, visit_ordinal) - 1)::SMALLINT AS grp
    FROM (SELECT DISTINCT instrument, visit, visit_ordinal FROM outcomes.pro_changes)
)
SELECT g.grp, g.instrument, g.visit, g.visit_ordinal, count(r.row) AS n
FROM groups g
LEFT JOIN outcomes.pro_changes c USING (instrument, visit, visit_ordinal)
LEFT JOIN comparison.cohort r USING (site_id, patient_id)
GROUP BY ALL
ORDER BY g.grp;
