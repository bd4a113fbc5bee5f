-- Eligibility at each post-baseline visit before the instrument's own condition (SAP 3.1): the patient is
-- *due* (the follow-up end reached the window's start, or the window's start falls before the data cut with
-- the procedure taken as done mid-year: index_year + 0.5 + start / 365.25 <= data_cut_year + 1) and is not
-- known to have died or withdrawn before the window's start (a death or withdrawal on day `start` or later
-- leaves the patient eligible). One row (row, visit_ordinal) per patient and visit where both hold, in no
-- particular order (they index an array).
-- Parameters: baseline visit name, the data cut year.
SELECT a.row, w.ordinal AS visit_ordinal
FROM attendance_input a
JOIN staging.visit_windows w
  ON w.ordinal > (SELECT ordinal FROM staging.visit_windows WHERE visit = $baseline_visit::VARCHAR)
WHERE (a.follow_up_end_day >= w.start_day
       OR a.index_year + 0.5 + w.start_day / 365.25 <= $data_cut_year::INTEGER + 1)
  AND coalesce(a.death_day >= w.start_day, true)
  AND coalesce(a.withdrawn_day >= w.start_day, true);
