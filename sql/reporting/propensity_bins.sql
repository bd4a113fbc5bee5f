-- Propensity-score overlap: patients per arm and score bin (`$bins` bins of equal width on [0, 1]; a score of
-- exactly 1 falls in the last bin, as numpy.histogram). Aggregates only; small bins are blanked in Python.
SELECT arm, least(floor(propensity_score * $bins), $bins - 1)::INTEGER AS bin, count(*) AS patients
FROM comparison.propensity
WHERE propensity_score BETWEEN 0 AND 1
GROUP BY ALL
ORDER BY arm, bin;
