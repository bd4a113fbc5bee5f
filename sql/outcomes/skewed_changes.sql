-- Every change of the skewed instruments with its group number (0-based position of its (arm, instrument,
-- visit) in sql/outcomes/skewed_groups.sql), sorted by group: numbers only, so that a million pairs reach
-- numpy without a Python object per row. Parameter: list of skewed instruments.
SELECT (dense_rank() OVER (ORDER BY arm, instrument, visit) - 1)::INTEGER AS group_id, change
FROM outcomes.pro_changes
WHERE list_contains($skewed_instruments::VARCHAR[], instrument)
ORDER BY group_id;
