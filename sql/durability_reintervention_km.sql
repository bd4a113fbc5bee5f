-- durability.reintervention_km: freedom from reintervention per arm at the SAP days (SAP 4.1): KM estimate
-- (events on the day included), its standard error and 95% CI on the log(-log) scale (NULL where the curve
-- is 0 or 1, as R), patients at risk (time >= day), and events and censorings in (previous day, day] — the
-- numbers of R's summary(fit, times = days). Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.reintervention_km AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, day::INTEGER AS day,
       survival::DOUBLE AS survival, se::DOUBLE AS se, ci_lower::DOUBLE AS ci_lower, ci_upper::DOUBLE AS ci_upper,
       at_risk::BIGINT AS at_risk, events::BIGINT AS events, censored::BIGINT AS censored
FROM result_frame;
