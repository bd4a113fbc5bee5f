-- staging.pro_visits: the assessment used per (site_id, patient_id, instrument, visit): the selected rows
-- of staging.pro_assessments, where the closest-to-target choice is made once. A view, not a copy: the
-- table would repeat nearly every row of pro_assessments (one PRO row per visit is the rule), and a view
-- can never fall out of step with it, whether pro_assessments was rebuilt in full or for some patients.
CREATE OR REPLACE VIEW staging.pro_visits AS
SELECT site_id, patient_id, instrument, visit, visit_ordinal, days_from_index, value
FROM staging.pro_assessments
WHERE selected;
