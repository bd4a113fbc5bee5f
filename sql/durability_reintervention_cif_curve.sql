-- durability.reintervention_cif_curve: the whole cumulative incidence of reintervention (death competing,
-- Aalen–Johansen) per arm, one row per distinct time (events of either cause or censorings): patients at risk
-- (time ≥ t), reinterventions, deaths and censorings at t, the estimate with its delta-method SE and log(−log)
-- 95% CI (NULL where undefined), and the cumulative incidence of death. For plots and checks.
-- Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.reintervention_cif_curve AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, time::INTEGER AS time, at_risk::BIGINT AS at_risk,
       events::BIGINT AS events, competing::BIGINT AS competing, censored::BIGINT AS censored,
       cumulative_incidence::DOUBLE AS cumulative_incidence, se::DOUBLE AS se,
       ci_lower::DOUBLE AS ci_lower, ci_upper::DOUBLE AS ci_upper,
       death_cumulative_incidence::DOUBLE AS death_cumulative_incidence
FROM result_frame;
