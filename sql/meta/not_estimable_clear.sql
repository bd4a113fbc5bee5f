DELETE FROM meta.not_estimable WHERE asset = $asset;
