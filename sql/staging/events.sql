-- staging.events: current events, one row per event (two events of one kind on one day stay two rows).
-- The free-text detail is deliberately not selected: it must never flow downstream (SAP section 8).
-- Reads ingest.current_events through the view scoped_events (pipeline/incremental.py).
SELECT site_id, patient_id, days_from_index, event
FROM scoped_events
