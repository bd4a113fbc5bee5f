-- staging.follow_up: one row per staging.patients patient. Follow-up end (SAP section 1) = the largest day
-- among its post-index PRO rows (day > 0, in a window or not) and its events of any type; 0 if none.
-- Reads staging.patients, staging.pro_assessments and staging.events through the views scoped_patients,
-- scoped_pro_assessments and scoped_events (pipeline/incremental.py).
-- Parameters: $death_event, $withdrawn_event, $last_contact_event (study.toml [events]).
-- (Inline, not a joined parameter row: a join changes the row order of this table, and with it the last bits of
-- the floating-point sums downstream.)
WITH pro AS (
    SELECT site_id, patient_id, max(days_from_index) AS last_pro_day, count(*) AS n_post_index_pro
    FROM scoped_pro_assessments
    WHERE days_from_index > 0
    GROUP BY site_id, patient_id
),
ev AS (
    SELECT site_id, patient_id,
           max(days_from_index) AS last_event_day,
           min(days_from_index) FILTER (WHERE event = $death_event::VARCHAR) AS death_day,
           min(days_from_index) FILTER (WHERE event = $withdrawn_event::VARCHAR) AS withdrawn_day,
           max(days_from_index) FILTER (WHERE event = $last_contact_event::VARCHAR) AS last_contact_day
    FROM scoped_events
    GROUP BY site_id, patient_id
)
SELECT p.site_id, p.patient_id,
       greatest(coalesce(pro.last_pro_day, 0), coalesce(ev.last_event_day, 0)) AS follow_up_end_day,
       ev.death_day, ev.withdrawn_day, ev.last_contact_day,
       coalesce(pro.n_post_index_pro, 0) AS n_post_index_pro
FROM scoped_patients p
LEFT JOIN pro USING (site_id, patient_id)
LEFT JOIN ev USING (site_id, patient_id)
