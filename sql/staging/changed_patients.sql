-- changed_patients (temporary): the patients whose current rows may differ between two ingest states: keys
-- of the rows of every drop version live in one state and not the other (new drops, corrections and the
-- versions they superseded keep their rows as history), plus every patient erased after the first state.
-- Parameters: drop ids and versions live before (parallel lists), drop ids and versions live now, the
-- latest erasure time incorporated before (NULL: none).
CREATE OR REPLACE TEMP TABLE changed_patients AS
WITH was AS (SELECT unnest($drop_ids_before::VARCHAR[]) AS drop_id, unnest($versions_before::INTEGER[]) AS version),
now AS (SELECT unnest($drop_ids_now::VARCHAR[]) AS drop_id, unnest($versions_now::INTEGER[]) AS version),
flipped AS (
    (SELECT * FROM was EXCEPT SELECT * FROM now)
    UNION ALL
    (SELECT * FROM now EXCEPT SELECT * FROM was)
)
SELECT DISTINCT site_id, patient_id FROM (
    SELECT site_id, patient_id FROM ingest.patients SEMI JOIN flipped USING (drop_id, version)
    UNION ALL
    SELECT site_id, patient_id FROM ingest.pro_responses SEMI JOIN flipped USING (drop_id, version)
    UNION ALL
    SELECT site_id, patient_id FROM ingest.events SEMI JOIN flipped USING (drop_id, version)
    UNION ALL
    SELECT site_id, patient_id FROM ingest.erasures WHERE erased_at > coalesce($erased_until_before::TIMESTAMP, '-infinity'::TIMESTAMP)
);
