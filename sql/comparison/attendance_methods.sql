-- Per instrument and post-baseline visit, how its attendance model was used (SAP 3.1): 'ipaw', or
-- 'complete_case' when it fell back (then every row of the visit says so).
SELECT instrument, visit,
       CASE WHEN bool_and(method = 'ipaw') THEN 'ipaw' ELSE 'complete_case' END AS method
FROM outcomes.attendance_weights
WHERE eligible
GROUP BY ALL
ORDER BY instrument, visit;
