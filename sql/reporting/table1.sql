-- Table 1 (baseline characteristics) of the analysis population per arm: counts for 0/1 covariates, mean and
-- SD for continuous ones. Aggregates only; suppression happens in Python (pipeline/reporting).
SELECT procedure AS arm,
       count(*) AS patients,
       avg(age_at_index) AS age_mean, stddev_samp(age_at_index) AS age_sd,
       count(*) FILTER (WHERE female) AS female,
       avg(bmi) AS bmi_mean, stddev_samp(bmi) AS bmi_sd, count(*) FILTER (WHERE bmi IS NULL) AS bmi_missing,
       count(*) FILTER (WHERE diabetes = 1) AS diabetes,
       count(*) FILTER (WHERE smoker = 1) AS smoker,
       count(*) FILTER (WHERE prior_esi = 1) AS prior_esi,
       avg(symptom_months) AS symptom_months_mean, stddev_samp(symptom_months) AS symptom_months_sd,
       avg(levels_treated) AS levels_mean, stddev_samp(levels_treated) AS levels_sd,
       avg(asa_class) AS asa_mean, stddev_samp(asa_class) AS asa_sd
FROM staging.patients
WHERE in_analysis
GROUP BY procedure;
