-- outcomes.responder_rules (config): the MCID rules of the study (SAP section 3), one row per (instrument,
-- rule) that has a threshold; `selected` marks the rule that defines "responder" for the instrument.
-- improvement_sign: -1 where lower is better (improvement = -change), +1 where higher is better.
-- Parameters (parallel lists, from pipeline.outcomes.responders.rule_rows): instruments, rules, thresholds,
-- selected flags, improvement signs.
CREATE OR REPLACE TABLE outcomes.responder_rules AS
SELECT unnest(?::VARCHAR[]) AS instrument,
       unnest(?::VARCHAR[]) AS rule,
       unnest(?::DOUBLE[])  AS threshold,
       unnest(?::BOOLEAN[]) AS selected,
       unnest(?::INTEGER[]) AS improvement_sign;
