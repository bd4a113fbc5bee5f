-- staging.pro_visits: the assessment used per (site_id, patient_id, instrument, visit): the selected rows
-- of staging.pro_assessments, where the closest-to-target choice is made once.
CREATE OR REPLACE TABLE staging.pro_visits AS
SELECT site_id, patient_id, instrument, visit, visit_ordinal, days_from_index, value
FROM staging.pro_assessments
WHERE selected;
