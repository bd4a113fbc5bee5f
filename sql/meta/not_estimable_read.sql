SELECT what, reason FROM meta.not_estimable ORDER BY asset, what;
