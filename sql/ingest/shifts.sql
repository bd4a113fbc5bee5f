-- Line numbering around malformed records: a row whose ordinal is at least from_ordinal comes `shift`
-- records later than ordinal + 1 (one per malformed record before it).
CREATE OR REPLACE TEMP TABLE ingest_shifts AS
SELECT CAST(unnest($from_ordinal) AS BIGINT) AS from_ordinal, CAST(unnest($shift) AS BIGINT) AS shift
