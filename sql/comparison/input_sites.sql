-- The sites of the analysis population in site_id order: the labels of input_fetch's site_code.
SELECT DISTINCT site_id FROM comparison_input ORDER BY site_id;
