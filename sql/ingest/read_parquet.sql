-- One Parquet file into ingest_raw: the contract columns cast to VARCHAR (an empty string is a missing
-- value, as in CSV) and `ordinal`, the row's position in the file.
CREATE OR REPLACE TEMP TABLE ingest_raw AS
SELECT row_number() OVER () AS ordinal, NULLIF(CAST(COLUMNS($keep) AS VARCHAR), '')
FROM read_parquet($path)
