-- outcomes.study_parameters: the study parameters each outcomes asset used at its last materialization
-- (one row per asset and parameter), so every table can be traced to the configuration behind it.
CREATE TABLE IF NOT EXISTS outcomes.study_parameters (
    asset        VARCHAR NOT NULL,
    parameter    VARCHAR NOT NULL,
    value        VARCHAR,
    study_sha256 VARCHAR NOT NULL,
    recorded_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
