-- What the stored weights were computed with (written by the propensity_weights asset), the cohort size and
-- why the weights could not be computed (NULL when they were: not_estimable, a plain reason).
SELECT i.weights, i.truncation_percentiles, i.patients, (SELECT count(*) FROM comparison.cohort) AS cohort,
       i.not_estimable
FROM comparison.propensity_inputs i;
