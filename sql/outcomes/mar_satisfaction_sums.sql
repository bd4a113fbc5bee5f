-- Per arm and post-baseline visit of the satisfaction rows of outcomes.attendance_weights (SAP 3.1): eligible
-- and assessed patients, the model's method, and the two-pass sums of the attendance-weighted satisfaction
-- rate over the eligible, assessed patients (satisfied: the primary definition's value <= satisfied_max,
-- from staging.pro_visits), with the unweighted count satisfied (for disclosure control).
-- Read from the stored form of the view (sql/outcomes/mar_change_sums.sql says why), the values from
-- staging.pro_visits through the patient and model numbers.
-- Parameters: the primary definition's instrument and satisfied_max.
WITH models AS (
    SELECT model, instrument, visit, method
    FROM outcomes.attendance_models
    WHERE instrument = $instrument::VARCHAR
),
counts AS (
    SELECT p.arm, m.visit, count(*) FILTER (WHERE r.eligible) AS eligible,
           count(*) FILTER (WHERE r.eligible AND r.assessed) AS assessed, any_value(m.method) AS method
    FROM outcomes.attendance_rows r
    JOIN models m USING (model)
    JOIN outcomes.attendance_patients p USING (patient)
    GROUP BY ALL
),
answers AS MATERIALIZED (
    -- The instrument's answers with patient and model numbers (the identifiers matched against the patients)
    SELECT p.patient, m.model, p.arm, m.visit, v.value
    FROM staging.pro_visits v
    JOIN outcomes.attendance_patients p USING (site_id, patient_id)
    JOIN models m USING (instrument, visit)
    WHERE v.instrument = $instrument::VARCHAR
),
d AS MATERIALIZED (
    SELECT a.arm, a.visit, r.weight AS w, (a.value <= $satisfied_max::DOUBLE)::DOUBLE AS y
    FROM answers a
    JOIN outcomes.attendance_rows r USING (model, patient)
    WHERE r.eligible AND r.assessed
),
m AS (
    SELECT arm, visit, count(*) AS n, sum(w) AS sw, sum(w * y) / sum(w) AS mean_y, sum(y) AS satisfied
    FROM d
    GROUP BY ALL
),
s AS (
    -- All equal (everybody satisfied, or nobody): exactly 0 (no CI), not the rounding noise of y - mean.
    SELECT d.arm, d.visit,
           CASE WHEN min(d.y) = max(d.y) THEN 0 ELSE sum((d.w * (d.y - m.mean_y)) ^ 2) END AS spread_y
    FROM d
    JOIN m USING (arm, visit)
    GROUP BY ALL
)
SELECT c.arm, c.visit, c.eligible, c.assessed, c.method, coalesce(m.n, 0) AS n, m.sw, m.mean_y, s.spread_y,
       coalesce(m.satisfied, 0)::BIGINT AS satisfied
FROM counts c
LEFT JOIN m USING (arm, visit)
LEFT JOIN s USING (arm, visit);
