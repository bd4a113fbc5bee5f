-- Freedom from reintervention: the numbers at risk agree with the cohort. Failures: an arm whose data set
-- does not have one row per analysis patient of staging.patients; a reported day whose at-risk count is not
-- the number of the arm's patients with time >= day; an arm whose curve does not start with all its patients
-- at risk or does not account for every patient once as an event or a censoring.
WITH cohort AS (
    SELECT arm, count(*) AS patients FROM staging.patients WHERE in_analysis GROUP BY arm
),
dataset AS (
    SELECT arm, count(*) AS patients, count(DISTINCT (site_id, patient_id)) AS distinct_patients
    FROM durability.reintervention_dataset GROUP BY arm
),
reported AS (
    SELECT k.at_risk,
           (SELECT count(*) FROM durability.reintervention_dataset d WHERE d.arm = k.arm AND d.time >= k.day)
               AS expected
    FROM durability.reintervention_km k
),
curve AS (
    SELECT arm, arg_min(at_risk, time) AS first_at_risk, sum(events + censored) AS accounted
    FROM durability.reintervention_km_curve GROUP BY arm
)
SELECT (SELECT count(*) FROM cohort c FULL JOIN dataset d USING (arm)
        WHERE d.patients IS DISTINCT FROM c.patients OR d.distinct_patients IS DISTINCT FROM c.patients)
     + (SELECT count(*) FROM reported WHERE at_risk <> expected)
     + (SELECT count(*) FROM cohort c LEFT JOIN curve k USING (arm)
        WHERE k.first_at_risk IS DISTINCT FROM c.patients OR k.accounted IS DISTINCT FROM c.patients)
       AS failures,
       (SELECT count(*) FROM durability.reintervention_km) + 2 * (SELECT count(*) FROM cohort) AS checked;
