-- outcomes.attendance_weights (SAP 3.1): an eligible, assessed row has a positive, finite weight (exactly 1
-- under complete case); every other row has none; the method is one of the two; no key appears twice. Holds
-- on an empty table. Read from the view's stored form (sql/outcomes/attendance_weights_view.sql): a row of
-- outcomes.attendance_rows whose model or patient is unknown (the view would drop it) fails; (model, patient)
-- unique there, (site_id, patient_id) unique in attendance_patients and (instrument, visit) unique in
-- attendance_models together make (site_id, patient_id, instrument, visit) unique in the view.
WITH judged AS (
    SELECT CASE WHEN m.model IS NULL OR p.patient IS NULL THEN false
                WHEN m.method NOT IN ('ipaw', 'complete_case') THEN false
                WHEN r.eligible AND r.assessed THEN r.weight > 0 AND isfinite(r.weight)
                                                     AND (m.method = 'ipaw' OR r.weight = 1)
                ELSE r.weight IS NULL
           END AS ok
    FROM outcomes.attendance_rows r
    LEFT JOIN outcomes.attendance_models m USING (model)
    LEFT JOIN outcomes.attendance_patients p USING (patient)
),
keys AS (
    SELECT (SELECT count(*) - count(DISTINCT model::BIGINT * 4294967296 + patient) FROM outcomes.attendance_rows)
         + (SELECT count(*) - count(DISTINCT (site_id, patient_id)) FROM outcomes.attendance_patients)
         + (SELECT count(*) - count(DISTINCT (instrument, visit)) FROM outcomes.attendance_models) AS repeated
)
SELECT count(*) FILTER (WHERE NOT coalesce(ok, false)) + (SELECT repeated FROM keys) AS failures,
       count(*) AS checked,
       (SELECT repeated FROM keys) AS repeated_keys
FROM judged;
