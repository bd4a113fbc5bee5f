-- staging.patients: ages 18-90 (top-coded), sex coded, levels 1-5, arm consistent with in_analysis.
SELECT count(*) FILTER (
           WHERE age_at_index NOT BETWEEN 18 AND 90
              OR sex NOT IN ('F', 'M', 'U')
              OR levels_treated NOT BETWEEN 1 AND 5
              OR (arm IS NOT NULL) <> in_analysis
       ) AS failures,
       count(*) AS checked
FROM staging.patients;
