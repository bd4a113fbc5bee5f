-- Follow-up completeness per arm and visit at every data cut (SAP section 2), as the data stood after each
-- drop: cut k holds the live rows (ingested, not replaced by a correction) of the first k drops in delivery
-- order (drop_id: date, then site). n = analysis patients delivered by cut k whose follow-up end at cut k
-- reached the window's start; assessed = those of them with an assessment in the window delivered by cut k.
-- Each row counts from the first cut that holds it, so one pass over the rows serves every cut. Ingest
-- accepts only rows with a valid unit, so every accepted in-window row is usable (as staging.pro_visits).
-- The analysis population and arm are today's (staging.patients). Patients get an integer key and visits
-- their ordinal early: the big aggregations then hash integers, not strings (~2.5x faster at 1M patients).
-- Parameter: $instrument, the completeness instrument ('ANY' = an assessment of any instrument).
WITH cuts AS (
    SELECT drop_id, row_number() OVER (ORDER BY drop_id)::INTEGER AS cut
    FROM (SELECT DISTINCT drop_id FROM ingest.live_versions)
),
live AS (
    SELECT drop_id, version, cut FROM ingest.live_versions JOIN cuts USING (drop_id)
),
analysed AS (
    SELECT site_id, patient_id, procedure AS arm, arm AS arm_role, row_number() OVER ()::INTEGER AS pk
    FROM staging.patients
    WHERE in_analysis
),
first_delivered AS (
    SELECT a.pk, min(l.cut) AS first_cut
    FROM ingest.patients p JOIN live l USING (drop_id, version) JOIN analysed a USING (site_id, patient_id)
    GROUP BY a.pk
),
day_window AS (
    -- Windows do not overlap (checked by the Study): a day → window lookup, joined on an integer.
    SELECT d.day::INTEGER AS day, w.ordinal
    FROM staging.visit_windows w, range(w.start_day, w.end_day + 1) d(day)
),
pro_days AS (
    -- Distinct delivered PRO days per patient and drop version (rows → days first: the big reduction).
    SELECT site_id, patient_id, drop_id, version, days_from_index AS day,
           bool_or($instrument = 'ANY' OR instrument = $instrument) AS counts
    FROM ingest.pro_responses
    GROUP BY ALL
),
pro_cut AS (
    SELECT a.pk, l.cut, p.day, p.counts
    FROM pro_days p JOIN live l USING (drop_id, version) JOIN analysed a USING (site_id, patient_id)
),
follow AS (
    -- Latest day delivered per patient and cut (SAP 1: post-index PRO days and event days).
    SELECT pk, cut, max(day) AS last_day FROM pro_cut WHERE day > 0 GROUP BY ALL
    UNION ALL
    SELECT a.pk, l.cut, max(e.days_from_index)
    FROM ingest.events e JOIN live l USING (drop_id, version) JOIN analysed a USING (site_id, patient_id)
    GROUP BY ALL
),
marks AS (
    -- Per patient and window: the first cut whose follow-up end reached the window's start (follow-up end is
    -- at least 0, so a window starting on or before the index is reached on delivery), and the first cut
    -- holding an assessment in the window.
    SELECT f.pk, w.ordinal, f.cut AS reached, NULL::INTEGER AS assessed
    FROM follow f JOIN staging.visit_windows w ON w.start_day > 0 AND f.last_day >= w.start_day
    UNION ALL
    SELECT p.pk, d.ordinal, NULL, p.cut
    FROM pro_cut p JOIN day_window d USING (day)
    WHERE p.counts
    UNION ALL
    SELECT f.pk, w.ordinal, f.first_cut, NULL
    FROM first_delivered f JOIN staging.visit_windows w ON w.start_day <= 0
),
per_patient AS (
    SELECT pk, ordinal, min(reached) AS reached, min(assessed) AS assessed
    FROM marks
    GROUP BY ALL
),
firsts AS (
    -- Nobody counts before delivery, and assessed counts from the cut it is also reached (numerator ⊆
    -- denominator).
    SELECT a.arm, a.arm_role, p.ordinal, greatest(f.first_cut, p.reached) AS reached_cut,
           CASE WHEN p.assessed IS NOT NULL THEN greatest(f.first_cut, p.reached, p.assessed) END AS assessed_cut,
           count(*) AS patients
    FROM per_patient p
    JOIN first_delivered f USING (pk)
    JOIN analysed a USING (pk)
    WHERE p.reached IS NOT NULL
    GROUP BY ALL
)
SELECT c.cut, c.drop_id, f.arm, f.arm_role, w.visit, f.ordinal AS visit_ordinal,
       sum(f.patients)::BIGINT AS n,
       coalesce(sum(f.patients) FILTER (WHERE f.assessed_cut <= c.cut), 0)::BIGINT AS assessed
FROM cuts c
JOIN firsts f ON f.reached_cut <= c.cut
JOIN staging.visit_windows w USING (ordinal)
GROUP BY ALL
ORDER BY c.cut, f.arm_role DESC, f.ordinal;
