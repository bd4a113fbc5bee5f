-- Each distinct (site_id, patient_id) of the file being applied, checked once: are the ids valid, does
-- either look like a direct identifier (its whole value shaped like an SSN, a phone number or a date:
-- contract.KEY_IDENTIFIER_PATTERNS, not the free-text scan), and is the patient erased or unknown? Checking the distinct pairs
-- and joining them back is far cheaper than running the expressions on every row of a large file.
CREATE OR REPLACE TEMP TABLE ingest_ids AS
WITH pairs AS (
    SELECT DISTINCT site_id, patient_id FROM ingest_stage
),
erased AS (
    SELECT DISTINCT site_id, patient_id FROM ingest.erasures
),
-- Known patients: those of live versions (except the version this drop corrects, which it replaces) and
-- the accepted patients of this drop, checked but not inserted yet.
known AS (
    SELECT p.site_id, p.patient_id
    FROM ingest.patients p
    JOIN ingest.live_versions l ON l.drop_id = p.drop_id AND l.version = p.version
    WHERE p.site_id IN (SELECT site_id FROM pairs)
        AND NOT coalesce(p.drop_id = $drop_id AND p.version = $prev_version, false)
    UNION
    SELECT site_id, patient_id FROM ingest_drop_patients
)
SELECT
    pairs.site_id,
    pairs.patient_id,
    coalesce(regexp_matches(pairs.site_id, $site_pattern), false) AS site_ok,
    coalesce(regexp_matches(pairs.patient_id, $patient_pattern), false) AS patient_ok,
    coalesce(regexp_matches(pairs.site_id, $key_ident_any), false) AS site_hit,
    coalesce(regexp_matches(pairs.patient_id, $key_ident_any), false) AS patient_hit,
    CASE
        WHEN $check_erased AND erased.site_id IS NOT NULL THEN 'erased_patient'
        WHEN $check_orphan AND known.site_id IS NULL THEN 'orphan'
    END AS patient_state
FROM pairs
LEFT JOIN erased ON erased.site_id = pairs.site_id AND erased.patient_id = pairs.patient_id
LEFT JOIN known ON known.site_id = pairs.site_id AND known.patient_id = pairs.patient_id
