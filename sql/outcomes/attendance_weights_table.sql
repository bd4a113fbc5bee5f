-- outcomes.attendance_weights, emptied (filled by sql/outcomes/attendance_weights_write.sql per instrument).
-- site_id is part of the key: pseudonymous patient ids are unique only within a site (data contract).
CREATE OR REPLACE TABLE outcomes.attendance_weights (
    site_id    VARCHAR,
    patient_id VARCHAR,
    instrument VARCHAR,
    visit      VARCHAR,
    arm        VARCHAR,
    eligible   BOOLEAN,
    assessed   BOOLEAN,
    weight     DOUBLE,
    method     VARCHAR
);
