-- staging.visit_windows: the study's visit windows (SAP section 2), bounds inclusive, one row per visit.
-- Parameters (parallel lists, from Study.visit_rows()): visit names, ordinals, start, end and target days.
-- A config table, so that the models join to the windows instead of hard-coding day numbers.
CREATE OR REPLACE TABLE staging.visit_windows AS
SELECT unnest($visit_names::VARCHAR[]) AS visit,
       unnest($visit_ordinals::INTEGER[]) AS ordinal,
       unnest($start_days::INTEGER[]) AS start_day,
       unnest($end_days::INTEGER[]) AS end_day,
       unnest($target_days::INTEGER[]) AS target_day;
