-- durability.durable_response_curve: the whole Turnbull curve of durable ODI response per arm, one row per
-- support point (exact failure times and midpoints of innermost intervals, where R places the mass): the
-- probability of durable response after it, patients still observed responding (left bound ≥ t) and the arm's
-- patients. No pointwise CI: the NPMLE has no standard pointwise variance (a bootstrap whose EM runs to
-- convergence costs seconds per replicate at scale). Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.durable_response_curve AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, time::DOUBLE AS time,
       probability::DOUBLE AS probability, at_risk::BIGINT AS at_risk, patients::BIGINT AS patients
FROM result_frame;
