INSERT INTO meta.not_estimable (asset, what, reason) VALUES (?, ?, ?);
