-- A KM curve table of durability ($curve: durability.reintervention_km_curve or
-- durability.return_to_activity_km_curve): every curve is a probability that never rises: 0 <= survival <= 1,
-- not above the previous time's value of its arm, and inside its CI where the CI exists (NULL at 0 and 1).
WITH ordered AS (
    SELECT survival, ci_lower, ci_upper, lag(survival) OVER (PARTITION BY arm ORDER BY time) AS previous
    FROM query_table($curve)
)
SELECT count(*) FILTER (WHERE survival IS NULL OR survival < 0 OR survival > 1 OR survival > previous
                           OR ci_lower < 0 OR ci_upper > 1 OR ci_lower > survival OR ci_upper < survival)
           AS failures,
       count(*) AS checked
FROM ordered;
