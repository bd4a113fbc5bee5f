-- Back to DuckDB's default parallelism after comparison/aggregate_serially.
RESET threads;
