-- The reference tables of an ingest run (its macros stay: they hold no data and are replaced next run).
DROP TABLE IF EXISTS ingest_ref_instruments;
DROP TABLE IF EXISTS ingest_ref_units;
