-- The (arm, instrument, visit) groups of the skewed instruments, in the order of group_id in
-- sql/outcomes/skewed_changes.sql. Parameter: list of skewed instruments.
SELECT DISTINCT arm, instrument, visit
FROM outcomes.pro_changes
WHERE list_contains($skewed_instruments::VARCHAR[], instrument)
ORDER BY arm, instrument, visit;
