-- durability.return_to_activity_dataset: one row per analysis patient (SAP 4.3, horizon of SAP 1).
-- Event: the first RETURN_TO_ACTIVITY on or before the end of follow-up and the horizon; otherwise censored
-- at follow-up end or death, capped at the horizon. As for reintervention, follow-up ends at death and an
-- event dated after a death is not counted. Parameters: horizon day, recovery event code.
CREATE SCHEMA IF NOT EXISTS durability;  -- folded in: it always ran just before this model
CREATE OR REPLACE TABLE durability.return_to_activity_dataset AS
WITH params AS (SELECT $horizon::INTEGER AS horizon, $recovery_event::VARCHAR AS recovery_event),
first_return AS (
    SELECT e.site_id, e.patient_id, min(e.days_from_index) AS return_day
    FROM staging.events e, params
    WHERE e.event = params.recovery_event
    GROUP BY e.site_id, e.patient_id
),
patients AS (
    SELECT p.site_id, p.patient_id, p.arm, p.procedure, f.follow_up_end_day, f.death_day, r.return_day,
           CASE WHEN f.death_day < f.follow_up_end_day THEN f.death_day ELSE f.follow_up_end_day END AS end_day
    FROM staging.patients p
    JOIN staging.follow_up f USING (site_id, patient_id)
    LEFT JOIN first_return r USING (site_id, patient_id)
    WHERE p.in_analysis
),
outcome AS (
    SELECT patients.*, params.horizon,
           coalesce(return_day <= end_day AND return_day <= params.horizon, false) AS returned
    FROM patients, params
)
SELECT site_id, patient_id, arm, procedure,
       CASE WHEN returned THEN return_day ELSE least(end_day, horizon) END AS time,
       returned::INTEGER AS event,
       return_day, death_day, follow_up_end_day
FROM outcome;
