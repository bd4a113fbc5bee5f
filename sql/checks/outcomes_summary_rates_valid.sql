-- The responder rates of outcomes.pro_change_summary, as checks/outcomes_rates_valid.sql: with n > 0 a rate
-- in [0, 1] inside its CI within [0, 1]; with n = 0 (never stored today: a group exists only with complete
-- pairs) rate and CI NULL.
SELECT count(*) FILTER (WHERE NOT coalesce(
           CASE WHEN n = 0 THEN responder_rate IS NULL AND responder_ci_lower IS NULL
                                AND responder_ci_upper IS NULL
                ELSE n > 0 AND responder_rate BETWEEN 0 AND 1
                     AND responder_ci_lower BETWEEN 0 AND responder_rate
                     AND responder_ci_upper BETWEEN responder_rate AND 1
           END,
           false))                    AS failures,
       count(*)                       AS checked,
       count(*) FILTER (WHERE n = 0)  AS rows_not_estimable
FROM outcomes.pro_change_summary;
