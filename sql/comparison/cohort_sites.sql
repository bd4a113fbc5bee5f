-- The site label of every analysis patient (comparison.cohort), in row order: the per-site estimates of the
-- site-heterogeneity step re-fit the propensity model within each site. Site labels, not patient identifiers.
SELECT row, site_id FROM comparison.cohort ORDER BY row;
