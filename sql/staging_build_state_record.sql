-- Record what a build incorporated. Parameters: table name, fingerprint, live drop ids, their versions
-- (parallel lists), erasure count, latest erasure time.
INSERT INTO staging.build_state VALUES (?, ?, ?::VARCHAR[], ?::INTEGER[], ?, ?::TIMESTAMP);
