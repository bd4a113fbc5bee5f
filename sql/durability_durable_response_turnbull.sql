-- durability.durable_response_turnbull: probability of durable ODI response per arm at the SAP days
-- (Turnbull NPMLE, SAP 4.2), with the patients behind it by kind of observation and the EM's convergence.
-- Written from the registered frame `result_frame`.
CREATE OR REPLACE TABLE durability.durable_response_turnbull AS
SELECT arm::VARCHAR AS arm, procedure::VARCHAR AS procedure, day::INTEGER AS day,
       probability::DOUBLE AS probability, patients::BIGINT AS patients, exact::BIGINT AS exact,
       interval_censored::BIGINT AS interval_censored, right_censored::BIGINT AS right_censored,
       iterations::INTEGER AS iterations, converged::BOOLEAN AS converged
FROM result_frame;
