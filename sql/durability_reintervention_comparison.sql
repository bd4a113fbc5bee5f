-- durability.reintervention_comparison: the between-arm statistics of SAP 4.1, one row per measure:
--   logrank          statistic = chi-square (1 df), p_value
--   cox_hr           estimate = hazard ratio treatment vs comparator (Efron ties), se = SE of log HR,
--                    95% Wald CI, statistic = z, p_value
--   ph_test          statistic = chi-square of R's cox.zph (transform "km"), df, p_value
--   rmst             per arm (arm, procedure set): RMST to tau, SE (R's survmean), 95% CI
--   rmst_difference  treatment - comparator: estimate, SE, 95% CI, p_value
-- Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.reintervention_comparison AS
SELECT measure::VARCHAR AS measure, arm::VARCHAR AS arm, procedure::VARCHAR AS procedure,
       estimate::DOUBLE AS estimate, se::DOUBLE AS se, ci_lower::DOUBLE AS ci_lower, ci_upper::DOUBLE AS ci_upper,
       statistic::DOUBLE AS statistic, df::INTEGER AS df, p_value::DOUBLE AS p_value, tau::DOUBLE AS tau
FROM result_frame;
