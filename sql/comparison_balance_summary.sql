-- The one-row balance summary the asset checks read (written by the covariate_balance asset).
SELECT weights, max_abs_smd_after, balance_passed, equipoise, equipoise_passed, ess_treatment, ess_comparator,
       n_treatment, n_comparator
FROM comparison.balance_summary;
