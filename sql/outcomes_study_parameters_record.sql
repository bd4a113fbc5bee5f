-- Record the parameters an asset used. Parameters: asset name, parameter names, values (parallel lists),
-- study sha256.
INSERT INTO outcomes.study_parameters
SELECT ?::VARCHAR, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?::VARCHAR, now();
