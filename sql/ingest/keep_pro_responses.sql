-- The checked pro_responses file of the drop, kept until the drop is applied.
ALTER TABLE ingest_checked RENAME TO ingest_result_pro_responses
