-- What the stored weights were computed with (written by the propensity_weights asset) and the cohort size.
SELECT i.weights, i.truncation_percentiles, i.patients, (SELECT count(*) FROM comparison.cohort) AS cohort
FROM comparison.propensity_inputs i;
