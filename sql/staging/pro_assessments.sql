-- staging.pro_assessments: every current PRO row (grain: site_id, patient_id, instrument, days_from_index),
-- value in canonical units (SAP section 3), the visit window holding its day or NULL (kept, in_window =
-- false), and whether it is the one assessment used for its (patient, instrument, visit): the closest to
-- the target day, on a tie the earlier day (SAP section 2). Reads ingest.current_pro_responses through the
-- view scoped_pro_responses (pipeline/incremental.py), and the config tables staging.units and
-- staging.visit_windows.
WITH visit_days AS (
    -- One row per day that lies in a window (a few thousand), so that each PRO row finds its window by an
    -- equality join on its day instead of a range join over tens of millions of rows. Windows do not
    -- overlap (checked by the Study), so a day has at most one window.
    SELECT unnest(range(start_day, end_day + 1))::INTEGER AS day, visit, ordinal AS visit_ordinal, target_day
    FROM staging.visit_windows
),
converted AS (
    SELECT r.site_id, r.patient_id, r.instrument, r.days_from_index,
           r.value AS value_raw, r.unit AS unit_raw,
           -- An instrument without units keeps its value; a unit-bearing one is converted by its unit's
           -- factor. A unit that does not fit the instrument (ingest quarantines those) gives NULL, not a
           -- guess, and such a row is never selected for a visit.
           CASE WHEN u.unit IS NOT NULL THEN r.value * u.factor
                WHEN r.unit IS NULL AND r.instrument NOT IN (SELECT instrument FROM staging.units) THEN r.value
           END AS value,
           u.canonical_unit AS unit
    FROM scoped_pro_responses r
    LEFT JOIN staging.units u ON u.instrument = r.instrument AND u.unit = r.unit
),
windowed AS (
    SELECT c.*, w.visit, w.visit_ordinal, w.target_day
    FROM converted c
    LEFT JOIN visit_days w ON w.day = c.days_from_index
)
SELECT site_id, patient_id, instrument, days_from_index, value, value_raw, unit_raw, unit,
       visit, visit_ordinal::INTEGER AS visit_ordinal, visit IS NOT NULL AS in_window,
       visit IS NOT NULL AND value IS NOT NULL AND row_number() OVER (
           PARTITION BY site_id, patient_id, instrument, visit
           ORDER BY value IS NULL, abs(days_from_index - target_day), days_from_index
       ) = 1 AS selected
FROM windowed
