-- The audit trail of erasures (the contract requires it): who, by which drop version, when, how much.
INSERT INTO ingest.erasures (site_id, patient_id, drop_id, version, erased_at, rows_deleted)
SELECT site_id, patient_id, $drop_id, $version, $erased_at, rows_deleted
FROM ingest_erase_now
