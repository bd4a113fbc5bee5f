-- staging.pro_visits: at most one assessment per patient, instrument and visit. Counted on 64-bit hashes of
-- the key, much cheaper than on the key's text; a hash collision can only make the count of distinct keys
-- smaller, so "no failures" here is exact, and any failure is recounted on the key itself
-- (checks/pro_visits_one_per_visit_exact.sql, pipeline/checks.py).
SELECT count(*) - count(DISTINCT hash(site_id, patient_id, instrument, visit)) AS failures, count(*) AS checked
FROM staging.pro_visits;
