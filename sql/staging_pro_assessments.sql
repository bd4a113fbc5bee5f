-- staging.pro_assessments: every current PRO row (grain: site_id, patient_id, instrument, days_from_index),
-- value in canonical units (SAP section 3), the visit window holding its day or NULL (kept, in_window =
-- false), and whether it is the one assessment used for its (patient, instrument, visit): the closest to
-- the target day, on a tie the earlier day (SAP section 2). Reads staging.units and staging.visit_windows.
CREATE OR REPLACE TABLE staging.pro_assessments AS
WITH converted AS (
    SELECT r.site_id, r.patient_id, r.instrument, r.days_from_index,
           r.value AS value_raw, r.unit AS unit_raw,
           -- An instrument without units keeps its value; a unit-bearing one is converted by its unit's
           -- factor. A unit that does not fit the instrument (ingest quarantines those) gives NULL, not a
           -- guess, and such a row is never selected for a visit.
           CASE WHEN u.unit IS NOT NULL THEN r.value * u.factor
                WHEN r.unit IS NULL AND r.instrument NOT IN (SELECT instrument FROM staging.units) THEN r.value
           END AS value,
           u.canonical_unit AS unit
    FROM ingest.current_pro_responses r
    LEFT JOIN staging.units u ON u.instrument = r.instrument AND u.unit = r.unit
),
windowed AS (
    -- Range join: windows do not overlap (checked by the Study), so a day matches at most one window.
    SELECT c.*, w.visit, w.ordinal AS visit_ordinal, w.target_day
    FROM converted c
    LEFT JOIN staging.visit_windows w ON c.days_from_index BETWEEN w.start_day AND w.end_day
)
SELECT site_id, patient_id, instrument, days_from_index, value, value_raw, unit_raw, unit,
       visit, visit_ordinal, visit IS NOT NULL AS in_window,
       visit IS NOT NULL AND value IS NOT NULL AND row_number() OVER (
           PARTITION BY site_id, patient_id, instrument, visit
           ORDER BY value IS NULL, abs(days_from_index - target_day), days_from_index
       ) = 1 AS selected
FROM windowed;
