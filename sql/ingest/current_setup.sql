-- The live history rows that are not current: a row of a later drop has their key. Maintained by each drop
-- in its own transaction, so that reading the current rows is a scan of the history minus this (usually
-- small) list rather than a window over the whole history. Rows of versions that are no longer live need
-- no entry: the live_versions join drops them. (table_name, drop_id, version, line) names one history row.
CREATE TABLE ingest.replaced_rows (
    table_name VARCHAR NOT NULL,   -- 'patients' | 'pro_responses' | 'events'
    drop_id    VARCHAR NOT NULL,
    version    INTEGER NOT NULL,
    line       BIGINT  NOT NULL
);
