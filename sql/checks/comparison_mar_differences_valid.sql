-- The MAR twin of the adjusted differences (SAP 3.1): in comparison.pro_change_difference_mar an estimate lies
-- inside its CI when there is one, the method is one of the two, the counts are not negative; in
-- comparison.tipping_point_difference the share not assessed lies in [0, 1], assessed <= eligible, and delta,
-- when given, is >= 0 (a shift in the unfavourable direction) and given exactly when no reason says why not.
-- Holds on empty tables (nothing could be estimated: the gap says why).
WITH differences AS (
    SELECT coalesce(
               method IN ('ipaw', 'complete_case') AND n_treatment >= 0 AND n_comparator >= 0
               AND (ci_lower IS NULL OR ci_lower <= estimate AND estimate <= ci_upper),
               false) AS ok
    FROM comparison.pro_change_difference_mar
),
tipping AS (
    SELECT coalesce(
               share_unassessed BETWEEN 0 AND 1 AND assessed BETWEEN 0 AND eligible
               AND (delta IS NULL) = (reason IS NOT NULL) AND (delta IS NULL OR delta >= 0),
               false) AS ok
    FROM comparison.tipping_point_difference
)
SELECT count(*) FILTER (WHERE NOT ok) AS failures, count(*) AS checked
FROM (SELECT ok FROM differences UNION ALL SELECT ok FROM tipping);
