-- The groups of sql/comparison/weighted_change_rows.sql with their numbers (same numbering).
SELECT instrument, visit, visit_ordinal,
       (row_number() OVER (ORDER BY instrument, visit, visit_ordinal) - 1)::SMALLINT AS grp
FROM (SELECT DISTINCT instrument, visit, visit_ordinal FROM comparison_weighted_changes)
ORDER BY grp;
