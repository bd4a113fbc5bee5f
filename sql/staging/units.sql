-- staging.units: every accepted unit of a unit-bearing instrument, with the factor to its canonical unit
-- (SAP section 3; contract.UNIT_FACTORS and CANONICAL_UNIT). One row per (instrument, unit).
-- Parameters (parallel lists): units, instruments, factors, canonical units.
CREATE OR REPLACE TABLE staging.units AS
SELECT unnest($units::VARCHAR[]) AS unit,
       unnest($instruments::VARCHAR[]) AS instrument,
       unnest($factors::DOUBLE[])  AS factor,
       unnest($canonical_units::VARCHAR[]) AS canonical_unit;
