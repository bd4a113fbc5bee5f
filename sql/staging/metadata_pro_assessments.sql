-- Key numbers of staging.pro_assessments for asset metadata: (name, value).
SELECT 'outside_every_window' AS name, count(*) FILTER (WHERE NOT in_window) AS value FROM staging.pro_assessments
UNION ALL SELECT 'not_selected_in_window', count(*) FILTER (WHERE in_window AND NOT selected)
FROM staging.pro_assessments;
