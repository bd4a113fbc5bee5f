-- Every change row has its baseline: the patient's baseline-visit row of staging.pro_visits for the same
-- instrument, on the recorded day with the recorded value, and change = value - baseline.
-- Parameter: $baseline_visit.
SELECT count(*) FILTER (WHERE b.patient_id IS NULL
                           OR c.change IS DISTINCT FROM c.value - c.baseline_value) AS failures,
       count(*) AS checked
FROM outcomes.pro_changes c
LEFT JOIN staging.pro_visits b
       ON b.site_id = c.site_id AND b.patient_id = c.patient_id AND b.instrument = c.instrument
      AND b.visit = $baseline_visit AND b.days_from_index = c.baseline_day AND b.value = c.baseline_value;
