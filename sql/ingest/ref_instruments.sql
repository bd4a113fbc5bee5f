-- contract.INSTRUMENTS as a lookup table for the pro_responses checks.
CREATE OR REPLACE TEMP TABLE ingest_ref_instruments AS
SELECT unnest($instruments, recursive := true)
