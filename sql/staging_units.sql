-- staging.units: every accepted unit of a unit-bearing instrument, with the factor to its canonical unit
-- (SAP section 3; contract.UNIT_FACTORS and CANONICAL_UNIT). One row per (instrument, unit).
-- Parameters (parallel lists): units, instruments, factors, canonical units.
CREATE OR REPLACE TABLE staging.units AS
SELECT unnest(?::VARCHAR[]) AS unit,
       unnest(?::VARCHAR[]) AS instrument,
       unnest(?::DOUBLE[])  AS factor,
       unnest(?::VARCHAR[]) AS canonical_unit;
