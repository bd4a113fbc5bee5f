-- Key numbers of staging.patients for asset metadata: (name, value).
SELECT 'patients_treatment' AS name, count(*) FILTER (WHERE arm = 'treatment') AS value FROM staging.patients
UNION ALL SELECT 'patients_comparator', count(*) FILTER (WHERE arm = 'comparator') FROM staging.patients
UNION ALL SELECT 'patients_other_procedures', count(*) FILTER (WHERE NOT in_analysis) FROM staging.patients
UNION ALL SELECT 'ages_top_coded', count(*) FILTER (WHERE age_top_coded) FROM staging.patients;
