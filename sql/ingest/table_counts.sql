-- Row counts of the ingest tables, for asset metadata: (name, rows).
SELECT 'drop_files' AS name, count(*) AS n FROM ingest.drop_files
UNION ALL SELECT 'quarantine', count(*) FROM ingest.quarantine
UNION ALL SELECT 'patients', count(*) FROM ingest.patients
UNION ALL SELECT 'pro_responses', count(*) FROM ingest.pro_responses
UNION ALL SELECT 'events', count(*) FROM ingest.events
UNION ALL SELECT 'current_patients', count(*) FROM ingest.current_patients
UNION ALL SELECT 'current_pro_responses', count(*) FROM ingest.current_pro_responses
UNION ALL SELECT 'current_events', count(*) FROM ingest.current_events;
