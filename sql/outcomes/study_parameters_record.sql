-- Record the parameters an asset used. Parameters: asset name, parameter names, values (parallel lists),
-- study sha256.
INSERT INTO outcomes.study_parameters
SELECT $asset::VARCHAR, unnest($names::VARCHAR[]), unnest($parameter_values::VARCHAR[]), $study_sha256::VARCHAR, now();
