-- durability.return_to_activity_km: recovery per arm (SAP 4.3). measure 'median_days': KM median with the
-- 95% CI read off the log(-log) confidence curves (as R's print(survfit)); measure 'share_back': 1 - KM at
-- `day` (events on the day included) with its 95% CI (1 - the curve's log(-log) limits) and the patients at
-- risk. Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.return_to_activity_km AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, measure::VARCHAR AS measure, day::INTEGER AS day,
       estimate::DOUBLE AS estimate, ci_lower::DOUBLE AS ci_lower, ci_upper::DOUBLE AS ci_upper,
       patients::BIGINT AS patients, events::BIGINT AS events, at_risk::BIGINT AS at_risk
FROM result_frame;
