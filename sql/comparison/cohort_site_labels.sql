-- The sites of comparison.cohort in site_id order: the labels of cohort_fetch's site_code.
SELECT DISTINCT site_id FROM comparison.cohort ORDER BY site_id;
