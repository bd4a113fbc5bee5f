-- Coefficients of the whole population's propensity model (the subgroup fits start from them).
SELECT term, coef FROM comparison.propensity_model WHERE status = 'fitted';
