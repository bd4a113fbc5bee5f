-- outcomes.attendance_weights (SAP 3.1): an eligible, assessed row has a positive, finite weight (exactly 1
-- under complete case); every other row has none; the method is one of the two; no key appears twice. Holds
-- on an empty table.
WITH judged AS (
    SELECT CASE WHEN method NOT IN ('ipaw', 'complete_case') THEN false
                WHEN eligible AND assessed THEN weight > 0 AND isfinite(weight)
                                                 AND (method = 'ipaw' OR weight = 1)
                ELSE weight IS NULL
           END AS ok
    FROM outcomes.attendance_weights
),
keys AS (
    SELECT count(*) - count(DISTINCT (site_id, patient_id, instrument, visit)) AS repeated
    FROM outcomes.attendance_weights
)
SELECT count(*) FILTER (WHERE NOT coalesce(ok, false)) + (SELECT repeated FROM keys) AS failures,
       count(*) AS checked,
       (SELECT repeated FROM keys) AS repeated_keys
FROM judged;
