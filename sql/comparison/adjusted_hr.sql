-- The adjusted reintervention hazard ratio row of comparison.adjusted_estimates (the E-value's input).
SELECT estimate, ci_lower, ci_upper, balance_achieved
FROM comparison.adjusted_estimates
WHERE outcome = 'reintervention' AND measure = 'hazard_ratio' AND adjustment = 'adjusted';
