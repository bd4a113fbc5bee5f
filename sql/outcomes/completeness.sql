-- Follow-up completeness per arm, visit and instrument (SAP section 2): n = patients of the arm whose
-- follow-up end reached the window's start; assessed = those of them with an assessment in the window, per
-- instrument and for instrument 'ANY' (an assessment of any instrument). Wilson CIs are added in Python.
-- 'ANY' and the study's completeness instrument get a row for every arm and visit reached even when nobody
-- was assessed (a completeness of 0 is a number; only a visit nobody reached has none).
-- Parameter: the study's completeness instrument.
WITH analysed AS (
    SELECT p.site_id, p.patient_id, p.procedure AS arm, p.arm AS arm_role, f.follow_up_end_day
    FROM staging.patients p
    JOIN staging.follow_up f USING (site_id, patient_id)
    WHERE p.in_analysis
),
reached AS (
    SELECT a.site_id, a.patient_id, a.arm, a.arm_role, w.visit, w.ordinal AS visit_ordinal
    FROM analysed a
    JOIN staging.visit_windows w ON a.follow_up_end_day >= w.start_day
),
denominators AS (
    SELECT arm, arm_role, visit, visit_ordinal, count(*) AS n
    FROM reached
    GROUP BY ALL
),
assessed AS (
    -- staging.pro_visits holds only in-window assessments, one per (patient, instrument, visit).
    SELECT site_id, patient_id, visit, instrument FROM staging.pro_visits
    UNION ALL
    SELECT DISTINCT site_id, patient_id, visit, 'ANY' FROM staging.pro_visits
),
numerators AS (
    -- Joined to `reached` so that the numerator is always a subset of the denominator.
    SELECT r.arm, r.visit, s.instrument, count(*) AS assessed
    FROM reached r
    JOIN assessed s USING (site_id, patient_id, visit)
    GROUP BY ALL
),
instruments AS (
    SELECT 'ANY' AS instrument UNION SELECT $completeness_instrument::VARCHAR UNION SELECT instrument FROM numerators
)
SELECT d.arm, d.arm_role, d.visit, d.visit_ordinal, i.instrument, d.n,
       coalesce(m.assessed, 0) AS assessed
FROM denominators d
CROSS JOIN instruments i
LEFT JOIN numerators m ON m.arm = d.arm AND m.visit = d.visit AND m.instrument = i.instrument
ORDER BY d.arm_role DESC, d.visit_ordinal, i.instrument = 'ANY' DESC, i.instrument;
