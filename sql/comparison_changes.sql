-- Change from baseline and responder flag (selected MCID rule) per analysis patient, instrument and
-- post-baseline visit, from outcomes.pro_changes (complete pairs only, as in SAP section 3).
SELECT site_id, patient_id, instrument, visit, visit_ordinal, change, responder::DOUBLE AS responder
FROM outcomes.pro_changes
ORDER BY site_id, patient_id, instrument, visit_ordinal;
