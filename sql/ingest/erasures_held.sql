-- An erasure already on record is a duplicate: it is applied once and audited once.
UPDATE ingest_checked c
SET duplicate = true
WHERE reason_code IS NULL AND NOT repeat
    AND EXISTS (SELECT 1 FROM ingest.erasures e WHERE e.site_id = c.site_id AND e.patient_id = c.patient_id)
