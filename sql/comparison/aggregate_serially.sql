-- The change sums are aggregated on one thread (pipeline/comparison/cohort.change_differences): DuckDB merges
-- the per-thread partial sums of a parallel aggregate in whatever order the threads finish, so the last bits of
-- the sums, and through the variance formula the 12th digit of a published SE, differed between two refreshes
-- of the same data. Undone by comparison/aggregate_in_parallel.
SET threads = 1;
