-- The MAR estimates (SAP 3.1): in outcomes.pro_change_mar and outcomes.satisfaction_mar, 0 <= assessed <=
-- eligible; an estimate exists exactly when somebody was assessed, lies inside its CI when there is one, a
-- rate and its CI within [0, 1]; the method is one of the two. In outcomes.tipping_points, the share not
-- assessed lies in [0, 1] and delta, when given, is >= 0. Holds on empty tables.
WITH change AS (
    SELECT coalesce(
               assessed BETWEEN 0 AND eligible AND method IN ('ipaw', 'complete_case')
               AND (assessed = 0) = (mean_change IS NULL)
               AND (ci_low IS NULL OR ci_low <= mean_change AND mean_change <= ci_high)
               AND (responder_rate IS NULL OR responder_rate BETWEEN 0 AND 1)
               AND (responder_ci_low IS NULL OR 0 <= responder_ci_low AND responder_ci_low <= responder_rate
                    AND responder_rate <= responder_ci_high AND responder_ci_high <= 1),
               false) AS ok
    FROM outcomes.pro_change_mar
),
satisfaction AS (
    SELECT coalesce(
               assessed BETWEEN 0 AND eligible AND method IN ('ipaw', 'complete_case')
               AND (assessed = 0) = (rate IS NULL)
               AND (rate IS NULL OR rate BETWEEN 0 AND 1)
               AND (ci_low IS NULL OR 0 <= ci_low AND ci_low <= rate AND rate <= ci_high AND ci_high <= 1),
               false) AS ok
    FROM outcomes.satisfaction_mar
),
tipping AS (
    SELECT coalesce(share_unassessed BETWEEN 0 AND 1 AND (delta IS NULL OR delta >= 0), false) AS ok
    FROM outcomes.tipping_points
),
judged AS (
    SELECT ok FROM change UNION ALL SELECT ok FROM satisfaction UNION ALL SELECT ok FROM tipping
)
SELECT count(*) FILTER (WHERE NOT ok) AS failures, count(*) AS checked FROM judged;
