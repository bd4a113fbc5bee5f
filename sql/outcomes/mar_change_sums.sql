-- Per arm, change instrument and post-baseline visit of outcomes.attendance_weights (SAP 3.1): eligible and
-- assessed patients, the model's method, and the two-pass sums of the attendance-weighted mean change and
-- responder rate over the eligible, assessed patients (their change and responder flag from
-- outcomes.pro_changes, the complete-case pairs): n, Σw, the weighted mean, Σ w²(y − mean)² (two passes,
-- so the sandwich variance has no cancellation), and the unweighted responder count (for disclosure control).
-- Read from the stored form of the view outcomes.attendance_weights (attendance_rows, keyed by model and patient
-- number; the view's text keys are not built for millions of rows): pro_changes reaches the patient numbers
-- through attendance_patients (100,000 rows at 100,000 patients) and the model numbers through
-- attendance_models, then meets the attendance rows on one integer, model × 2³² + patient (one key for
-- the pair: a one-column join is cheaper). The rows summed are materialized once and read by
-- both passes. A model is one instrument and visit, so the sums are grouped by (model, arm), integers and
-- one short text, and the instrument and visit are joined to the few result rows.
-- Parameter: the change instruments.
WITH models AS (
    SELECT model, instrument, visit, method
    FROM outcomes.attendance_models
    WHERE list_contains($instruments::VARCHAR[], instrument)
),
counts AS (
    SELECT r.model, p.arm, count(*) FILTER (WHERE r.eligible) AS eligible,
           count(*) FILTER (WHERE r.eligible AND r.assessed) AS assessed
    FROM outcomes.attendance_rows r
    JOIN outcomes.attendance_patients p USING (patient)
    WHERE r.model IN (SELECT model FROM models)
    GROUP BY ALL
),
changes AS MATERIALIZED (
    -- pro_changes with patient and model numbers: the identifiers are matched against the patients, not the
    -- attendance rows (a plan left free probed millions of text keys)
    SELECT m.model::BIGINT * 4294967296 + p.patient AS key, m.model, p.arm, c.change, c.responder
    FROM outcomes.pro_changes c
    JOIN outcomes.attendance_patients p USING (site_id, patient_id)
    JOIN models m USING (instrument, visit)
),
d AS MATERIALIZED (
    SELECT c.model, c.arm, r.weight AS w, c.change AS y, c.responder::DOUBLE AS r
    FROM changes c
    JOIN (SELECT model::BIGINT * 4294967296 + patient AS key, weight FROM outcomes.attendance_rows
          WHERE eligible AND assessed) r USING (key)
),
m AS (
    SELECT model, arm, count(*) AS n, sum(w) AS sw, sum(w * y) / sum(w) AS mean_y,
           count(r) AS n_r, sum(w) FILTER (WHERE r IS NOT NULL) AS sw_r,
           sum(w * r) / sum(w) FILTER (WHERE r IS NOT NULL) AS mean_r, sum(r) AS responders
    FROM d
    GROUP BY ALL
),
s AS (
    -- All values of a group equal (e.g. every patient a responder): exactly 0, not the rounding noise of
    -- y - mean, so such a group has no CI on every run.
    SELECT d.model, d.arm,
           CASE WHEN min(d.y) = max(d.y) THEN 0 ELSE sum((d.w * (d.y - m.mean_y)) ^ 2) END AS spread_y,
           CASE WHEN min(d.r) = max(d.r) THEN 0 ELSE sum((d.w * (d.r - m.mean_r)) ^ 2) END AS spread_r
    FROM d
    JOIN m USING (model, arm)
    GROUP BY ALL
)
SELECT c.arm, mo.instrument, mo.visit, c.eligible, c.assessed, mo.method,
       coalesce(m.n, 0) AS n, m.sw, m.mean_y, s.spread_y, coalesce(m.n_r, 0) AS n_r, m.sw_r, m.mean_r, s.spread_r,
       coalesce(m.responders, 0)::BIGINT AS responders
FROM counts c
JOIN models mo USING (model)
LEFT JOIN m USING (model, arm)
LEFT JOIN s USING (model, arm);
