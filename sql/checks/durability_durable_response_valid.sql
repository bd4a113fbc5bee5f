-- durability.durable_response_turnbull: probabilities in [0, 1] that never rise with the day, from an EM that
-- converged.
WITH ordered AS (
    SELECT probability, converged, lag(probability) OVER (PARTITION BY arm ORDER BY day) AS previous
    FROM durability.durable_response_turnbull
)
SELECT count(*) FILTER (WHERE probability IS NULL OR probability < 0 OR probability > 1 OR probability > previous
                           OR NOT converged) AS failures,
       count(*) AS checked
FROM ordered;
