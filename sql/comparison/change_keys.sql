-- The instruments and visits of outcomes.pro_changes (one row: two lists), for the group number of
-- sql/comparison/change_rows.sql.
SELECT coalesce(list(DISTINCT instrument), []) AS instruments, coalesce(list(DISTINCT visit), []) AS visits
FROM outcomes.pro_changes;
