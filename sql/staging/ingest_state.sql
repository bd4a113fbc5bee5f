-- What of ingest a build incorporates: the live drop versions (ingested, not superseded; parallel lists in
-- (drop_id, version) order), and the count and latest time of the erasures audited so far.
WITH live AS (
    SELECT drop_id, version FROM ingest.drop_versions WHERE status = 'ingested' AND superseded_by IS NULL
)
SELECT (SELECT coalesce(list(drop_id ORDER BY drop_id, version), []) FROM live) AS drop_ids,
       (SELECT coalesce(list(version ORDER BY drop_id, version), []) FROM live) AS versions,
       (SELECT count(*) FROM ingest.erasures)                                  AS erasures,
       (SELECT max(erased_at) FROM ingest.erasures)                            AS erased_until;
