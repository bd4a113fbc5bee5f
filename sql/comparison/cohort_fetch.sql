-- comparison.cohort without patient identifiers, in row order (the patient-level arrays of the later steps);
-- the site as `site_code`, its position among the sites in site_id order (pipeline/comparison/cohort.COHORT_SITES).
WITH sites AS (
    SELECT site_id, (row_number() OVER (ORDER BY site_id) - 1)::INTEGER AS site_code
    FROM (SELECT DISTINCT site_id FROM comparison.cohort)
)
SELECT s.site_code, c.* EXCLUDE (row, site_id, patient_id, arm_role)
FROM comparison.cohort c JOIN sites s USING (site_id)
ORDER BY c.row;
