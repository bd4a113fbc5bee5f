-- durability.return_to_activity_km_curve: the whole KM curve per arm, one row per distinct time (events and
-- censorings), as R's summary(survfit(..., conf.type = "log-log"), censored = TRUE). For plots and checks.
-- Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.return_to_activity_km_curve AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, time::INTEGER AS time,
       at_risk::BIGINT AS at_risk, events::BIGINT AS events, censored::BIGINT AS censored,
       survival::DOUBLE AS survival, se::DOUBLE AS se, ci_lower::DOUBLE AS ci_lower, ci_upper::DOUBLE AS ci_upper
FROM result_frame;
