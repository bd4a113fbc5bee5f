-- No visit assigned outside its window: every change row's visit day lies in its visit's window, and its
-- baseline day in the baseline window, by the windows of this run's study (not staging's copy of them).
-- Parameters: $visits, $starts, $ends (parallel lists of the windows); $baseline_visit.
WITH windows AS (
    SELECT unnest($visits::VARCHAR[]) AS visit, unnest($starts::INTEGER[]) AS start_day,
           unnest($ends::INTEGER[]) AS end_day
),
baseline AS (
    SELECT start_day, end_day FROM windows WHERE visit = $baseline_visit
)
SELECT count(*) FILTER (WHERE w.visit IS NULL
                           OR c.visit_day NOT BETWEEN w.start_day AND w.end_day
                           OR c.baseline_day NOT BETWEEN b.start_day AND b.end_day) AS failures,
       count(*) AS checked
FROM outcomes.pro_changes c
LEFT JOIN windows w USING (visit)
CROSS JOIN baseline b;
