-- Deletes every row of the patients in ingest_erase_now, history and quarantine included.
DELETE FROM ingest.patients t USING ingest_erase_now e WHERE t.site_id = e.site_id AND t.patient_id = e.patient_id;
DELETE FROM ingest.pro_responses t USING ingest_erase_now e
WHERE t.site_id = e.site_id AND t.patient_id = e.patient_id;
DELETE FROM ingest.events t USING ingest_erase_now e WHERE t.site_id = e.site_id AND t.patient_id = e.patient_id;
DELETE FROM ingest.quarantine t USING ingest_erase_now e WHERE t.site_id = e.site_id AND t.patient_id = e.patient_id;
