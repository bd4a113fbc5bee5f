-- Forget the parameters an asset recorded before (parameter: asset name).
DELETE FROM outcomes.study_parameters WHERE asset = $asset;
