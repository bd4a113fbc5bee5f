-- Per arm, instrument and visit (SAP section 3): n complete pairs, mean (SD) at baseline and visit, mean
-- and SD of the change, median change and quartiles (linear interpolation, as R's quantile type 7), the
-- median percent change over pairs with a non-zero baseline, and responders by the selected rule.
-- The t-based CI and Wilcoxon p are added per group in Python (pipeline/outcomes/change.py).
-- The three quantiles of the change come from one quantile_cont with a list of probabilities: one state per
-- group instead of three copies of its changes (the same values; a third less time).
SELECT arm, arm_role, instrument, visit, visit_ordinal, n, baseline_mean, baseline_sd, visit_mean, visit_sd,
       mean_change, sd_change, quartiles[2] AS median_change, quartiles[1] AS q1_change,
       quartiles[3] AS q3_change, n_percent_change, median_percent_change, responder_rule, responders
FROM (
    SELECT arm, arm_role, instrument, visit, visit_ordinal,
           count(*)                                    AS n,
           avg(baseline_value)                         AS baseline_mean,
           stddev_samp(baseline_value)                 AS baseline_sd,
           avg(value)                                  AS visit_mean,
           stddev_samp(value)                          AS visit_sd,
           avg(change)                                 AS mean_change,
           stddev_samp(change)                         AS sd_change,
           quantile_cont(change, [0.25, 0.5, 0.75])    AS quartiles,
           count(percent_change)                       AS n_percent_change,
           quantile_cont(percent_change, 0.5)          AS median_percent_change,
           any_value(responder_rule)                   AS responder_rule,
           count(*) FILTER (WHERE responder)           AS responders
    FROM outcomes.pro_changes
    GROUP BY arm, arm_role, instrument, visit, visit_ordinal
)
ORDER BY arm_role DESC, instrument, visit_ordinal;
