-- durability.durable_response_dataset: one row per analysis patient (SAP 4.2), with the interval in which
-- durable response ended. Signals, up to the end of the last visit window (day 2008 by default): each
-- post-index ODI visit, good when the patient is an ODI responder at it, and a reintervention (bad, exactly
-- timed; on the day of a visit it comes first). Failure at the first bad signal: a visit gives
-- (last good visit before it or 0, visit day]; a reintervention gives [day, day]; no bad signal gives
-- right-censoring at the last good visit (right_day NULL). Excluded (included = false, reason in
-- `exclusion`): no baseline ODI, or no post-index signal.
-- Responder (SAP 3, as outcomes.pro_changes): improvement = baseline - value; 'absolute': improvement >=
-- threshold points; 'relative': improvement >= threshold x baseline (any improvement when the baseline is
-- 0); compared after rounding to 9 decimals so that float noise does not flip a patient at the threshold.
-- Parameters: baseline visit name, responder rule ('absolute' | 'relative'), absolute threshold,
-- relative threshold, reintervention event codes.
CREATE SCHEMA IF NOT EXISTS durability;  -- folded in: it always ran just before this model
CREATE OR REPLACE TABLE durability.durable_response_dataset AS
WITH params AS (
    SELECT $baseline_visit::VARCHAR AS baseline_visit, $rule::VARCHAR AS rule, $absolute_threshold::DOUBLE AS absolute_threshold,
           $relative_threshold::DOUBLE AS relative_threshold, $reintervention_events::VARCHAR[] AS reintervention_events,
           (SELECT max(end_day) FROM staging.visit_windows) AS last_day
),
baseline AS (
    SELECT v.site_id, v.patient_id, v.value AS baseline_odi
    FROM staging.pro_visits v, params
    WHERE v.instrument = 'ODI' AND v.visit = params.baseline_visit
),
visits AS (
    SELECT v.site_id, v.patient_id, v.days_from_index AS day,
           CASE WHEN params.rule = 'absolute'
                THEN round(b.baseline_odi - v.value, 9) >= round(params.absolute_threshold, 9)
                WHEN b.baseline_odi = 0 THEN round(b.baseline_odi - v.value, 9) > 0
                ELSE round(b.baseline_odi - v.value, 9) >= round(params.relative_threshold * b.baseline_odi, 9)
           END AS good
    FROM staging.pro_visits v
    JOIN baseline b USING (site_id, patient_id)
    CROSS JOIN params
    WHERE v.instrument = 'ODI' AND v.visit <> params.baseline_visit
      AND v.days_from_index > 0 AND v.days_from_index <= params.last_day
),
first_reintervention AS (
    SELECT e.site_id, e.patient_id, min(e.days_from_index) AS day
    FROM staging.events e, params
    WHERE list_contains(params.reintervention_events, e.event) AND e.days_from_index <= params.last_day
    GROUP BY e.site_id, e.patient_id
),
visit_summary AS (
    SELECT site_id, patient_id, count(*) AS n_visits, min(day) FILTER (WHERE NOT good) AS first_bad_visit
    FROM visits
    GROUP BY site_id, patient_id
),
failure AS (
    SELECT p.site_id, p.patient_id, p.arm, p.procedure, b.baseline_odi, r.day AS reintervention_day,
           coalesce(vs.n_visits, 0) AS n_visits,
           CASE WHEN r.day IS NOT NULL AND (vs.first_bad_visit IS NULL OR r.day <= vs.first_bad_visit)
                THEN 'reintervention'
                WHEN vs.first_bad_visit IS NOT NULL THEN 'visit' END AS failure,
           CASE WHEN r.day IS NOT NULL AND (vs.first_bad_visit IS NULL OR r.day <= vs.first_bad_visit)
                THEN r.day ELSE vs.first_bad_visit END AS failure_day
    FROM staging.patients p
    LEFT JOIN baseline b USING (site_id, patient_id)
    LEFT JOIN first_reintervention r USING (site_id, patient_id)
    LEFT JOIN visit_summary vs USING (site_id, patient_id)
    WHERE p.in_analysis
),
last_good AS (
    -- The last good visit before the failure (a good visit on the day of a reintervention comes after it).
    SELECT f.site_id, f.patient_id, max(v.day) AS last_good_visit
    FROM failure f
    JOIN visits v ON v.site_id = f.site_id AND v.patient_id = f.patient_id
    WHERE v.good AND (f.failure_day IS NULL OR v.day < f.failure_day)
    GROUP BY f.site_id, f.patient_id
),
bounded AS (
    SELECT f.*, g.last_good_visit,
           CASE WHEN f.baseline_odi IS NULL THEN 'no_baseline_odi'
                WHEN f.n_visits = 0 AND f.reintervention_day IS NULL THEN 'no_post_index_signal' END AS exclusion
    FROM failure f
    LEFT JOIN last_good g USING (site_id, patient_id)
)
SELECT site_id, patient_id, arm, procedure, baseline_odi, n_visits, reintervention_day,
       exclusion IS NULL AS included, exclusion,
       CASE WHEN exclusion IS NULL THEN failure END AS failure,
       CASE WHEN exclusion IS NOT NULL THEN NULL
            WHEN failure = 'reintervention' THEN failure_day
            WHEN failure = 'visit' THEN coalesce(last_good_visit, 0)
            ELSE last_good_visit END AS left_day,
       CASE WHEN exclusion IS NULL THEN failure_day END AS right_day
FROM bounded
-- A fixed row order: the durable-response bootstrap resamples rows by position, so its CIs must not depend on
-- the order in which the parallel plan happens to emit patients.
ORDER BY site_id, patient_id;
