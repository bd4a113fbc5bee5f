-- outcomes.responder_rules (config): the MCID rules of the study (SAP section 3), one row per (instrument,
-- rule) that has a threshold; `selected` marks the rule that defines "responder" for the instrument.
-- improvement_sign: -1 where lower is better (improvement = -change), +1 where higher is better.
-- Parameters (parallel lists, from pipeline.outcomes.responders.rule_rows): instruments, rules, thresholds,
-- selected flags, improvement signs.
CREATE OR REPLACE TABLE outcomes.responder_rules AS
SELECT unnest($instruments::VARCHAR[]) AS instrument,
       unnest($rules::VARCHAR[]) AS rule,
       unnest($thresholds::DOUBLE[])  AS threshold,
       unnest($selected::BOOLEAN[]) AS selected,
       unnest($improvement_signs::INTEGER[]) AS improvement_sign;
