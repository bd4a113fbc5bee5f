-- staging.pro_assessments: every current PRO row (grain: site_id, patient_id, instrument, days_from_index),
-- value in canonical units (SAP section 3), the visit window holding its day or NULL (kept, in_window =
-- false), and whether it is the one assessment used for its (patient, instrument, visit): the closest to
-- the target day, on a tie the earlier day (SAP section 2); a row without a value (unit that does not fit)
-- is never chosen. Reads ingest.current_pro_responses through the
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
),
keyed AS (
    SELECT *, visit IS NOT NULL AND value IS NOT NULL AS eligible,
           hash(site_id, patient_id, instrument, visit) AS group_hash
    FROM windowed
),
-- The choice is needed only where a (patient, instrument, visit) has more than one candidate row, and that is
-- rare (one PRO row per visit is the rule). Ranking every row in a window partitioned by four text columns
-- sorted the whole table and was most of this model's time; instead the 64-bit hash of the group finds the
-- candidate groups (a sort of one integer column: cheaper than grouping millions of distinct keys) and only
-- their rows are ranked, partitioned by the columns themselves (a hash collision only adds a group to rank).
shared AS (
    SELECT DISTINCT group_hash
    FROM (SELECT group_hash, group_hash = lag(group_hash) OVER (ORDER BY group_hash) AS again
          FROM keyed WHERE eligible)
    WHERE again
),
ranked AS (
    SELECT site_id, patient_id, instrument, days_from_index,
           row_number() OVER (
               PARTITION BY site_id, patient_id, instrument, visit
               ORDER BY abs(days_from_index - target_day), days_from_index
           ) = 1 AS first
    FROM keyed
    WHERE eligible AND group_hash IN (SELECT group_hash FROM shared)
)
-- A row alone among the eligible rows of its group is the group's choice. (site_id, patient_id, instrument,
-- days_from_index) is the grain, so the join back meets at most one ranked row.
SELECT k.site_id, k.patient_id, k.instrument, k.days_from_index, k.value, k.value_raw, k.unit_raw, k.unit,
       k.visit, k.visit_ordinal::INTEGER AS visit_ordinal, k.visit IS NOT NULL AS in_window,
       k.eligible AND coalesce(r.first, true) AS selected
FROM keyed k
LEFT JOIN ranked r ON r.site_id = k.site_id AND r.patient_id = k.patient_id AND r.instrument = k.instrument
    AND r.days_from_index = k.days_from_index
