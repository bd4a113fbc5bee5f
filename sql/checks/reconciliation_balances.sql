-- Every file of every drop version: rows_read = accepted + quarantined + duplicates.
SELECT count(*) FILTER (WHERE rows_read <> accepted + quarantined + duplicates) AS failures, count(*) AS checked
FROM ingest.drop_files;
