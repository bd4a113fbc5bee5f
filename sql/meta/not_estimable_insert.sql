-- Record the gaps of one asset: parallel lists of member paths and reasons.
INSERT INTO meta.not_estimable (asset, what, reason)
SELECT $asset, unnest($whats::VARCHAR[]), unnest($reasons::VARCHAR[]);
