-- Tallies of the file being applied, per site (malformed records are counted apart, from ingest_malformed).
-- A row's site is its site_id when valid and not itself an identifier (an erased patient's quarantined row
-- keeps no ids, but its site_id was valid); otherwise $invalid_site. The file's totals are the sums.
SELECT
    CASE WHEN site_keep OR reason_code = 'erased_patient' THEN site_id ELSE $invalid_site END AS site,
    count(*) AS parsed,
    count(*) FILTER (WHERE reason_code IS NULL AND (repeat OR duplicate)) AS duplicates,
    count(*) FILTER (WHERE reason_code IS NULL AND NOT repeat AND NOT duplicate) AS accepted,
    count(*) FILTER (WHERE reason_code IS NOT NULL) AS quarantined
FROM ingest_checked
GROUP BY ALL
