-- durability.reintervention_dataset: one row per analysis patient (SAP 4.1, horizon of SAP 1).
-- Event: the first reintervention (default codes REINTERVENTION_SURGERY, REPEAT_MILD) on or before the end of
-- follow-up and the horizon; time = its day. Death before it is the competing event (time = death day);
-- otherwise censored at follow-up end, capped at the horizon. KM reads `event` (death censors there), the
-- Aalen-Johansen estimator reads `event` and `competing_event`.
-- Decisions where the SAP is silent: follow-up ends at death (a row dated after a death does not extend it,
-- and a reintervention dated after the death is not counted); a reintervention on the day of death counts
-- as the reintervention. Parameters: horizon day, reintervention event codes.
CREATE SCHEMA IF NOT EXISTS durability;  -- folded in: it always ran just before this model
CREATE OR REPLACE TABLE durability.reintervention_dataset AS
WITH params AS (SELECT $horizon::INTEGER AS horizon, $reintervention_events::VARCHAR[] AS reintervention_events),
first_reintervention AS (
    SELECT e.site_id, e.patient_id, min(e.days_from_index) AS reintervention_day
    FROM staging.events e, params
    WHERE list_contains(params.reintervention_events, e.event)
    GROUP BY e.site_id, e.patient_id
),
patients AS (
    SELECT p.site_id, p.patient_id, p.arm, p.procedure, f.follow_up_end_day, f.death_day,
           r.reintervention_day,
           CASE WHEN f.death_day < f.follow_up_end_day THEN f.death_day ELSE f.follow_up_end_day END AS end_day
    FROM staging.patients p
    JOIN staging.follow_up f USING (site_id, patient_id)
    LEFT JOIN first_reintervention r USING (site_id, patient_id)
    WHERE p.in_analysis
),
outcome AS (
    SELECT patients.*, params.horizon,
           CASE WHEN reintervention_day <= end_day AND reintervention_day <= params.horizon THEN 'reintervention'
                WHEN death_day <= params.horizon THEN 'death'
                ELSE 'censored' END AS outcome
    FROM patients, params
)
SELECT site_id, patient_id, arm, procedure,
       CASE outcome WHEN 'reintervention' THEN reintervention_day
                    WHEN 'death' THEN death_day
                    ELSE least(end_day, horizon) END AS time,
       (outcome = 'reintervention')::INTEGER AS event,
       (outcome = 'death')::INTEGER AS competing_event,
       outcome,
       reintervention_day, death_day, follow_up_end_day
FROM outcome;
