-- Warehouse tables of the ingest stage: drop history, per-file reconciliation, quarantine, and the
-- accepted rows of every drop version (history is kept; staging reads the current rows through the
-- views at the end). Idempotent: safe to run before every ingest.
CREATE SCHEMA IF NOT EXISTS ingest;

-- One row per distinct content of a drop that was ingested or rejected.
CREATE TABLE IF NOT EXISTS ingest.drop_versions (
    drop_id        VARCHAR   NOT NULL,
    version        INTEGER   NOT NULL,   -- 1 for the first delivery, +1 for each correction
    content_sha256 VARCHAR   NOT NULL,   -- sha256 of the sorted "file:sha256" lines of the drop
    status         VARCHAR   NOT NULL,   -- 'ingested' | 'rejected'
    reason_code    VARCHAR,              -- a DROP_REJECTION_CODES key, for rejected versions
    reason         VARCHAR,              -- plain-language reason; never holds a data value
    superseded_by  INTEGER,              -- the version of the same drop that replaced this one
    ingested_at    TIMESTAMP NOT NULL,
    run_id         VARCHAR,
    PRIMARY KEY (drop_id, version)
);

-- Every time a drop folder is looked at: ingested, rejected, or skipped (already held byte for byte).
CREATE TABLE IF NOT EXISTS ingest.drop_log (
    run_id   VARCHAR,
    seen_at  TIMESTAMP NOT NULL,
    drop_id  VARCHAR   NOT NULL,
    version  INTEGER,
    status   VARCHAR   NOT NULL,
    reason   VARCHAR
);

-- The drops the latest ingest left for later because they were still being copied (no manifest.json and a
-- file changed within the settling time). Not a drop version: replaced whole by every ingest run.
-- drop_id as public_drop_id gives it (a folder name that is not a valid drop id is never held).
CREATE TABLE IF NOT EXISTS ingest.waiting_drops (
    drop_id  VARCHAR   NOT NULL,
    seen_at  TIMESTAMP NOT NULL,
    run_id   VARCHAR,
    reason   VARCHAR   NOT NULL          -- ages in seconds only; never a name or a value
);

-- Reconciliation per drop version and file: rows_read = accepted + quarantined + duplicates.
CREATE TABLE IF NOT EXISTS ingest.drop_files (
    drop_id     VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    file        VARCHAR NOT NULL,        -- e.g. 'patients.csv' or 'events.parquet'
    table_name  VARCHAR NOT NULL,        -- 'patients' | 'pro_responses' | 'events' | 'erasures'
    sha256      VARCHAR NOT NULL,
    bytes       BIGINT  NOT NULL,
    rows_read   BIGINT  NOT NULL,
    accepted    BIGINT  NOT NULL,
    quarantined BIGINT  NOT NULL,
    duplicates  BIGINT  NOT NULL,        -- identical to a row already held
    superseded  BIGINT  NOT NULL,        -- rows of earlier drops (or versions) this file replaced
    PRIMARY KEY (drop_id, version, file)
);

-- The same reconciliation split by the rows' site_id (a drop may hold the rows of many sites; the folder
-- name says nothing about them). Rows whose site_id is invalid, itself an identifier or unreadable are
-- counted under contract.INVALID_SITE. Summed over a file's sites: its drop_files counts.
CREATE TABLE IF NOT EXISTS ingest.drop_file_sites (
    drop_id     VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    file        VARCHAR NOT NULL,
    site_id     VARCHAR NOT NULL,
    rows_read   BIGINT  NOT NULL,
    accepted    BIGINT  NOT NULL,
    quarantined BIGINT  NOT NULL,
    duplicates  BIGINT  NOT NULL,
    PRIMARY KEY (drop_id, version, file, site_id)
);

-- One row per quarantined input row. Holds no data value: only where the row was and why.
CREATE TABLE IF NOT EXISTS ingest.quarantine (
    drop_id         VARCHAR NOT NULL,
    version         INTEGER NOT NULL,
    file            VARCHAR NOT NULL,
    line            BIGINT  NOT NULL,    -- record number in the file; the header is line 1
    reason_code     VARCHAR NOT NULL,    -- a REASON_CODES key
    column_name     VARCHAR,             -- the offending column, when there is one
    identifier_kind VARCHAR,             -- for identifier_in_text: email, phone, ssn, date, url, ...
    site_id         VARCHAR,             -- only when valid and not itself the identifier hit
    patient_id      VARCHAR              -- idem (needed to apply erasures to quarantine)
);

CREATE TABLE IF NOT EXISTS ingest.patients (
    drop_id VARCHAR NOT NULL, version INTEGER NOT NULL, line BIGINT NOT NULL,
    site_id VARCHAR NOT NULL, patient_id VARCHAR NOT NULL, procedure VARCHAR NOT NULL,
    index_year INTEGER NOT NULL, age_at_index INTEGER NOT NULL, age_top_coded BOOLEAN NOT NULL,
    sex VARCHAR NOT NULL, bmi DOUBLE, diabetes INTEGER, smoker INTEGER, prior_esi INTEGER,
    symptom_months DOUBLE, levels_treated INTEGER NOT NULL, asa_class INTEGER, anesthesia VARCHAR,
    los_days INTEGER
);

CREATE TABLE IF NOT EXISTS ingest.pro_responses (
    drop_id VARCHAR NOT NULL, version INTEGER NOT NULL, line BIGINT NOT NULL,
    site_id VARCHAR NOT NULL, patient_id VARCHAR NOT NULL, days_from_index INTEGER NOT NULL,
    instrument VARCHAR NOT NULL, value DOUBLE NOT NULL, unit VARCHAR
);

CREATE TABLE IF NOT EXISTS ingest.events (
    drop_id VARCHAR NOT NULL, version INTEGER NOT NULL, line BIGINT NOT NULL,
    site_id VARCHAR NOT NULL, patient_id VARCHAR NOT NULL, days_from_index INTEGER NOT NULL,
    event VARCHAR NOT NULL, detail VARCHAR
);

-- Audit of erasures (data contract): who was erased, by which drop, when, and how many rows went.
CREATE TABLE IF NOT EXISTS ingest.erasures (
    site_id VARCHAR NOT NULL, patient_id VARCHAR NOT NULL, drop_id VARCHAR NOT NULL,
    version INTEGER NOT NULL, erased_at TIMESTAMP NOT NULL, rows_deleted BIGINT NOT NULL
);

-- Current rows: from drop versions that were ingested and not replaced by a correction; for a key held by
-- several drops, the drop applied last (greatest drop_id, the contract's delivery order) wins.
CREATE OR REPLACE VIEW ingest.live_versions AS
SELECT drop_id, version FROM ingest.drop_versions WHERE status = 'ingested' AND superseded_by IS NULL;

-- The definition of the current rows, as window functions over the whole history. It is the reference,
-- and what a warehouse built by hand (tests) reads; ingest_landing replaces these views, once, with ones
-- over the history minus ingest.replaced_rows, which it maintains (sql/ingest/current_views.sql). Hence
-- IF NOT EXISTS: re-running this file must not put the slow definition back.
CREATE VIEW IF NOT EXISTS ingest.current_patients AS
SELECT p.* FROM ingest.patients p JOIN ingest.live_versions v USING (drop_id, version)
QUALIFY row_number() OVER (PARTITION BY p.site_id, p.patient_id ORDER BY p.drop_id DESC, p.line DESC) = 1;

CREATE VIEW IF NOT EXISTS ingest.current_pro_responses AS
SELECT r.* FROM ingest.pro_responses r JOIN ingest.live_versions v USING (drop_id, version)
QUALIFY row_number() OVER (
    PARTITION BY r.site_id, r.patient_id, r.instrument, r.days_from_index ORDER BY r.drop_id DESC, r.line DESC
) = 1;

-- An event's key is the whole row: two complications on one day are two events, a repeat is one.
CREATE VIEW IF NOT EXISTS ingest.current_events AS
SELECT e.* FROM ingest.events e JOIN ingest.live_versions v USING (drop_id, version)
QUALIFY row_number() OVER (
    PARTITION BY e.site_id, e.patient_id, e.days_from_index, e.event, e.detail ORDER BY e.drop_id DESC, e.line DESC
) = 1;

-- The SHA-256 of each landing file as the byte pass found it, with the file's size and time stamps then.
-- A drop whose files all still carry those stamps is recognised as held without reading its bytes again
-- (pipeline/ingest/known_hashes.py), so a nightly run does not re-hash the whole landing. Holds no data.
CREATE TABLE IF NOT EXISTS ingest.file_hashes (
    drop_id     VARCHAR   NOT NULL,
    file        VARCHAR   NOT NULL,
    bytes       BIGINT    NOT NULL,
    modified_at TIMESTAMP NOT NULL,      -- the file's mtime (microseconds) when it was hashed
    changed_at  TIMESTAMP NOT NULL,      -- its ctime
    hashed_at   TIMESTAMP NOT NULL,      -- when the hash began, by the same clock
    sha256      VARCHAR   NOT NULL,
    PRIMARY KEY (drop_id, file)
);
