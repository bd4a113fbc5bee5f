-- The checked events file of the drop, kept until the drop is applied.
ALTER TABLE ingest_checked RENAME TO ingest_result_events
