-- The units each instrument accepts, with the factor to its canonical unit (contract.UNIT_FACTORS).
CREATE OR REPLACE TEMP TABLE ingest_ref_units AS
SELECT unnest($units, recursive := true)
