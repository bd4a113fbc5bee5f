-- The patients to erase now, with the number of warehouse rows (every table, every version, quarantine
-- included) that go with them.
CREATE OR REPLACE TEMP TABLE ingest_erase_now AS
WITH erase AS (
    SELECT site_id, patient_id FROM ingest_result_erasures WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate
),
held AS (
    SELECT site_id, patient_id FROM ingest.patients
    UNION ALL SELECT site_id, patient_id FROM ingest.pro_responses
    UNION ALL SELECT site_id, patient_id FROM ingest.events
    UNION ALL SELECT site_id, patient_id FROM ingest.quarantine
)
SELECT e.site_id, e.patient_id, count(h.site_id) AS rows_deleted
FROM erase e
LEFT JOIN held h ON h.site_id = e.site_id AND h.patient_id = e.patient_id
GROUP BY e.site_id, e.patient_id
