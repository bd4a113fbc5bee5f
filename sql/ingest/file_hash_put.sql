-- Remembers the hash of one landing file under the stamps it had when the byte pass began.
INSERT OR REPLACE INTO ingest.file_hashes (drop_id, file, bytes, modified_at, changed_at, hashed_at, sha256)
VALUES ($drop_id, $file, $bytes, make_timestamp($modified_us), make_timestamp($changed_us),
    make_timestamp($hashed_us), $sha256)
