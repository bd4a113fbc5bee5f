-- comparison.cohort: the analysis population (sql/comparison/input.sql) with the propensity score, preference
-- score and weight computed in Python (registered as _comparison_scores, one row per `row`). Patient-level,
-- never published; every later comparison step reads it instead of re-deriving the population, so its
-- data and its weights always come from the same propensity_weights run.
CREATE OR REPLACE TABLE comparison.cohort AS
SELECT i.*, s.propensity_score, s.preference_score, s.weight
FROM comparison_input i
JOIN _comparison_scores s USING (row)
ORDER BY i.row;
