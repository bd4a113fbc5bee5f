-- Numbers an analysis could not estimate (SAP 9), with the plain reason; see pipeline/estimable.py.
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.not_estimable (
    asset  VARCHAR NOT NULL,   -- the asset that recorded it (each asset replaces its own rows)
    what   VARCHAR NOT NULL,   -- results.json member path, e.g. 'reintervention.cox_hr'
    reason VARCHAR NOT NULL    -- plain words; never a data value
);
