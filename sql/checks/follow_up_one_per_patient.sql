-- staging.follow_up: exactly one row per staging patient, with a follow-up end of at least 0.
SELECT (SELECT count(*) FROM staging.patients p
        WHERE NOT EXISTS (SELECT 1 FROM staging.follow_up f
                          WHERE f.site_id = p.site_id AND f.patient_id = p.patient_id))
     + (SELECT count(*) - count(DISTINCT (site_id, patient_id)) FROM staging.follow_up)
     + (SELECT count(*) FROM staging.follow_up WHERE follow_up_end_day IS NULL OR follow_up_end_day < 0)
       AS failures,
       (SELECT count(*) FROM staging.follow_up) AS checked;
