-- staging.visit_windows: the study's visit windows (SAP section 2), bounds inclusive, one row per visit.
-- Parameters (parallel lists, from Study.visit_rows()): visit names, ordinals, start, end and target days.
-- A config table, so that the models join to the windows instead of hard-coding day numbers.
CREATE OR REPLACE TABLE staging.visit_windows AS
SELECT unnest(?::VARCHAR[]) AS visit,
       unnest(?::INTEGER[]) AS ordinal,
       unnest(?::INTEGER[]) AS start_day,
       unnest(?::INTEGER[]) AS end_day,
       unnest(?::INTEGER[]) AS target_day;
