-- How far staging disagrees with the study of this run: visit windows present in one and not the other,
-- and patients whose arm differs from the one the study's procedure codes give. Outcomes refuse to run on a
-- mismatch (staging must be rebuilt with the same study overrides first).
-- Parameters: visit names, ordinals, start, end and target days (parallel lists); treatment; comparator.
WITH study_windows AS (
    SELECT unnest($visit_names::VARCHAR[]) AS visit,
           unnest($visit_ordinals::INTEGER[]) AS ordinal,
           unnest($start_days::INTEGER[]) AS start_day,
           unnest($end_days::INTEGER[]) AS end_day,
           unnest($target_days::INTEGER[]) AS target_day
),
window_differences AS (
    (SELECT * FROM study_windows EXCEPT SELECT * FROM staging.visit_windows)
    UNION ALL
    (SELECT * FROM staging.visit_windows EXCEPT SELECT * FROM study_windows)
),
arms AS (SELECT $treatment::VARCHAR AS treatment, $comparator::VARCHAR AS comparator)
SELECT (SELECT count(*) FROM window_differences) AS window_mismatches,
       (SELECT count(*) FROM staging.patients p, arms a
        WHERE p.arm IS DISTINCT FROM
              CASE p.procedure WHEN a.treatment THEN 'treatment' WHEN a.comparator THEN 'comparator' END
       ) AS arm_mismatches;
