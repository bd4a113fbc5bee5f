-- staging.pro_visits: at most one assessment per patient, instrument and visit. Counted on 64-bit hashes of
-- the key, much cheaper than on the key's text: the rows whose hash equals the one before it in hash order
-- (a sort of one integer column, cheaper than counting millions of distinct hashes in a hash table) are
-- count(*) - count(DISTINCT hash). A hash collision can only add failures, so "no failures" here is exact,
-- and any failure is recounted on the key itself (checks/pro_visits_one_per_visit_exact.sql,
-- pipeline/checks.py).
SELECT count(*) FILTER (WHERE again) AS failures, count(*) AS checked
FROM (
    SELECT key_hash = lag(key_hash) OVER (ORDER BY key_hash) AS again
    FROM (SELECT hash(site_id, patient_id, instrument, visit) AS key_hash FROM staging.pro_visits)
);
