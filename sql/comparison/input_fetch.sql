-- The analysis population of sql/comparison/input.sql without patient identifiers, in row order; the site
-- label (a propensity covariate, SAP 6 version 2) as `site`.
SELECT site_id AS site, * EXCLUDE (row, site_id, patient_id, arm_role) FROM comparison_input ORDER BY row;
