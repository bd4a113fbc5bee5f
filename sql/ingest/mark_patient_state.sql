-- erased_patient and orphan, for rows that passed everything else. The ids of an erased patient are not
-- kept even in quarantine: the erasure removed them from every table.
UPDATE ingest_checked
SET
    reason_code = patient_state,
    site_keep = site_keep AND patient_state <> 'erased_patient',
    patient_keep = patient_keep AND patient_state <> 'erased_patient'
WHERE reason_code IS NULL AND patient_state IS NOT NULL
