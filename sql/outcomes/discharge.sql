-- Per arm (SAP section 5): patients, those with los_days given (n), same-day discharges (los_days = 0), and
-- mean, SD, median and quartiles of the length of stay in days. Both arms always get a row.
-- Parameters: treatment code, comparator code.
WITH arms AS (
    SELECT * FROM (VALUES ($treatment::VARCHAR, 'treatment'), ($comparator::VARCHAR, 'comparator')) t(arm, arm_role)
)
SELECT a.arm, a.arm_role,
       count(p.patient_id)                          AS patients,
       count(p.los_days)                            AS n,
       count(p.patient_id) - count(p.los_days)      AS los_missing,
       count(*) FILTER (WHERE p.los_days = 0)       AS same_day,
       avg(p.los_days)                              AS mean_los,
       stddev_samp(p.los_days)                      AS sd_los,
       quantile_cont(p.los_days, 0.5)               AS median_los,
       quantile_cont(p.los_days, 0.25)              AS q1_los,
       quantile_cont(p.los_days, 0.75)              AS q3_los
FROM arms a
LEFT JOIN staging.patients p ON p.arm = a.arm_role AND p.in_analysis
GROUP BY a.arm, a.arm_role
ORDER BY a.arm_role DESC;
