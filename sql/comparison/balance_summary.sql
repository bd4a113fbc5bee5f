-- The one-row balance summary the asset checks read (written by the covariate_balance asset); not_estimable
-- is the reason when there were no weights to check (NULL otherwise).
SELECT weights, max_abs_smd_after, balance_passed, equipoise, equipoise_passed, ess_treatment, ess_comparator,
       n_treatment, n_comparator, not_estimable
FROM comparison.balance_summary;
