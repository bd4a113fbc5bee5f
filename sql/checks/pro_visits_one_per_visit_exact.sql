-- staging.pro_visits: at most one assessment per patient, instrument and visit, counted on the key itself.
SELECT count(*) - count(DISTINCT (site_id, patient_id, instrument, visit)) AS failures, count(*) AS checked
FROM staging.pro_visits;
