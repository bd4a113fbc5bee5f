-- The remembered hashes of one drop's files, with the stamps they were taken under (microseconds).
SELECT file, bytes, epoch_us(modified_at), epoch_us(changed_at), epoch_us(hashed_at), sha256
FROM ingest.file_hashes
WHERE drop_id = $drop_id
