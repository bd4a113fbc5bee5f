-- The responder rates of outcomes.pro_change_summary: n > 0, 0 <= rate <= 1, CI within [0, 1] around it.
SELECT count(*) FILTER (WHERE NOT coalesce(
           n > 0 AND responder_rate BETWEEN 0 AND 1
           AND responder_ci_lower BETWEEN 0 AND responder_rate
           AND responder_ci_upper BETWEEN responder_rate AND 1,
           false)) AS failures,
       count(*)    AS checked
FROM outcomes.pro_change_summary;
