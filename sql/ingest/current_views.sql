-- The current rows as the live history minus the rows a later drop replaced (ingest.replaced_rows, kept up
-- to date by every drop). Same rows and columns as the window definition in ingest/schema.sql. An explicit
-- ANTI JOIN: NOT EXISTS would be planned as a delim join that first groups every history row.
CREATE OR REPLACE VIEW ingest.current_patients AS
SELECT p.* FROM ingest.patients p
JOIN ingest.live_versions v USING (drop_id, version)
ANTI JOIN (SELECT drop_id, version, line FROM ingest.replaced_rows WHERE table_name = 'patients') r
    ON r.drop_id = p.drop_id AND r.version = p.version AND r.line = p.line;

CREATE OR REPLACE VIEW ingest.current_pro_responses AS
SELECT p.* FROM ingest.pro_responses p
JOIN ingest.live_versions v USING (drop_id, version)
ANTI JOIN (SELECT drop_id, version, line FROM ingest.replaced_rows WHERE table_name = 'pro_responses') r
    ON r.drop_id = p.drop_id AND r.version = p.version AND r.line = p.line;

CREATE OR REPLACE VIEW ingest.current_events AS
SELECT p.* FROM ingest.events p
JOIN ingest.live_versions v USING (drop_id, version)
ANTI JOIN (SELECT drop_id, version, line FROM ingest.replaced_rows WHERE table_name = 'events') r
    ON r.drop_id = p.drop_id AND r.version = p.version AND r.line = p.line;
