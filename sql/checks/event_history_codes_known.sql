-- Accepted events name a contract event code and a day in 0..3650 (parameter $event_codes).
SELECT count(*) FILTER (WHERE NOT list_contains($event_codes, event) OR days_from_index NOT BETWEEN 0 AND 3650) AS failures,
       count(*) AS checked
FROM ingest.events;
