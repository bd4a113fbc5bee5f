-- durability.reintervention_cif: cumulative incidence of reintervention, with death as competing risk, per
-- arm at the SAP days (deterministic Aalen-Johansen, SAP 4.1), the cumulative incidence of death before
-- reintervention, and patients at risk (time >= day). Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.reintervention_cif AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, day::INTEGER AS day,
       cumulative_incidence::DOUBLE AS cumulative_incidence,
       death_cumulative_incidence::DOUBLE AS death_cumulative_incidence, at_risk::BIGINT AS at_risk
FROM result_frame;
