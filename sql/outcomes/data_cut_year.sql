-- The default data cut year of SAP 3.1: the year the latest drop id begins with ("YYYY-..."), NULL when no
-- ingested drop id begins with a year (the caller then takes the latest index_year + 1). "Latest" = the
-- largest such year by name, i.e. by the delivery date the id carries (a corrected re-delivery of an old
-- drop, ingested last, does not move the cut back).
SELECT max(left(drop_id, 4)::INTEGER)
FROM ingest.drop_versions
WHERE status = 'ingested' AND regexp_matches(drop_id, '^[0-9]{4}-');
