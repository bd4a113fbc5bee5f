-- The analysis population of sql/comparison/input.sql without patient identifiers, in row order. The site
-- (a propensity covariate, SAP 6 version 2) as `site_code`, its position among the sites in site_id order
-- (pipeline/comparison/cohort.INPUT_SITES lists them): a million labels fetched as text would cost a second per read.
WITH sites AS (
    SELECT site_id, (row_number() OVER (ORDER BY site_id) - 1)::INTEGER AS site_code
    FROM (SELECT DISTINCT site_id FROM comparison_input)
)
SELECT s.site_code, i.* EXCLUDE (row, site_id, patient_id, arm_role)
FROM comparison_input i JOIN sites s USING (site_id)
ORDER BY i.row;
