-- One Parquet file into ingest_raw: the contract columns cast to VARCHAR (an empty string is a missing
-- value, as in CSV), in file order: a row's position in the file is its rowid + 1 (see ingest_read_csv).
CREATE OR REPLACE TEMP TABLE ingest_raw AS
SELECT NULLIF(CAST(COLUMNS($keep) AS VARCHAR), '')
FROM read_parquet($path)
