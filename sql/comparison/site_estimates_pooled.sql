-- The sites pooled by the site-heterogeneity step, with their estimate and CI (Dagster metadata; no counts).
SELECT site, estimate, ci_lower, ci_upper FROM comparison.site_estimates WHERE status = 'pooled' ORDER BY site;
