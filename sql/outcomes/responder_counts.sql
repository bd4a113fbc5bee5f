-- Per arm, instrument, visit and MCID rule (SAP section 3): complete pairs and responders. Every rule with a
-- threshold is reported; `selected` marks the rule that defines "responder". Wilson CIs are added in Python.
WITH long AS (
    SELECT c.arm, c.arm_role, c.instrument, c.visit, c.visit_ordinal, r.rule, r.threshold, r.selected,
           CASE r.rule WHEN 'absolute' THEN c.responder_absolute ELSE c.responder_relative END AS responder
    FROM outcomes.pro_changes c
    JOIN outcomes.responder_rules r USING (instrument)
)
SELECT arm, arm_role, instrument, visit, visit_ordinal, rule, threshold, selected,
       count(*)                          AS n,
       count(*) FILTER (WHERE responder) AS responders
FROM long
GROUP BY ALL
ORDER BY arm_role DESC, instrument, visit_ordinal, rule;
