-- outcomes.pro_changes: one row per (site_id, patient_id, instrument, visit) of the analysis population with
-- both a baseline and a post-baseline value (complete pairs, SAP section 3). change = value - baseline;
-- improvement = change signed so that positive is better; responder flags for every MCID rule of
-- outcomes.responder_rules (NULL where the instrument has no threshold for that rule).
-- Reads staging.patients and staging.pro_visits through the views scoped_patients and scoped_pro_visits
-- (all patients, or only those whose rows changed: pipeline/incremental.py).
-- Parameter: $baseline_visit, the baseline visit name.
WITH rules AS (
    SELECT instrument,
           any_value(improvement_sign)                     AS improvement_sign,
           max(threshold) FILTER (WHERE rule = 'absolute') AS absolute_threshold,
           max(threshold) FILTER (WHERE rule = 'relative') AS relative_threshold,
           any_value(rule) FILTER (WHERE selected)         AS responder_rule
    FROM outcomes.responder_rules
    GROUP BY instrument
),
analysed AS (
    SELECT site_id, patient_id, procedure AS arm, arm AS arm_role
    FROM scoped_patients
    WHERE in_analysis
),
baseline AS (
    SELECT site_id, patient_id, instrument, days_from_index AS baseline_day, value AS baseline_value
    FROM scoped_pro_visits
    WHERE visit = $baseline_visit
),
pairs AS (
    SELECT a.arm, a.arm_role, v.site_id, v.patient_id, v.instrument, v.visit, v.visit_ordinal,
           b.baseline_day, v.days_from_index AS visit_day, b.baseline_value, v.value,
           v.value - b.baseline_value AS change,
           r.improvement_sign * (v.value - b.baseline_value) AS improvement,
           r.absolute_threshold, r.relative_threshold, r.responder_rule
    FROM scoped_pro_visits v
    JOIN analysed a USING (site_id, patient_id)
    JOIN baseline b USING (site_id, patient_id, instrument)
    JOIN rules r USING (instrument)
    WHERE v.visit_ordinal > (SELECT ordinal FROM staging.visit_windows WHERE visit = $baseline_visit)
),
flagged AS (
    -- Comparisons are made on values rounded to 9 decimals: 1.8 - 2.3 is -0.49999999999999978 in binary
    -- floating point, and a ZCQ change of exactly 0.5 (or a 30% gain in metres converted from feet) must
    -- count as reaching the threshold. No instrument is recorded to more than a few decimals.
    SELECT *,
           round(improvement, 9) >= round(absolute_threshold, 9) AS responder_absolute,
           CASE WHEN relative_threshold IS NULL THEN NULL
                -- Baseline 0 (SAP: "any increase"): no share of 0 can be the bar, any improvement is.
                WHEN baseline_value = 0 THEN round(improvement, 9) > 0
                ELSE round(improvement, 9) >= round(relative_threshold * abs(baseline_value), 9)
           END AS responder_relative
    FROM pairs
)
SELECT arm, arm_role, site_id, patient_id, instrument, visit, visit_ordinal,
       baseline_day, visit_day, baseline_value, value, change, improvement,
       CASE WHEN baseline_value <> 0 THEN 100 * change / baseline_value END AS percent_change,
       responder_absolute, responder_relative, responder_rule,
       CASE responder_rule WHEN 'absolute' THEN responder_absolute ELSE responder_relative END AS responder
FROM flagged
