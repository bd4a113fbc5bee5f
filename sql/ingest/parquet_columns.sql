-- Column names of a Parquet file, by position (reading the schema also proves the file is Parquet).
DESCRIBE SELECT * FROM read_parquet($path)
