-- Record what a build incorporated. Parameters: table name, fingerprint, live drop ids, their versions
-- (parallel lists), erasure count, latest erasure time.
INSERT INTO staging.build_state VALUES ($table, $fingerprint, $drop_ids::VARCHAR[], $versions::INTEGER[], $erasures, $erased_until::TIMESTAMP);
