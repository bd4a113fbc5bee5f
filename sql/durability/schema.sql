-- Schema of the durability analyses (SAP section 4): analysis data sets and fitted results.
CREATE SCHEMA IF NOT EXISTS durability;
