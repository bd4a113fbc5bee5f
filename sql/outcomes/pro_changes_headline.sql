-- Headline counts of outcomes.pro_changes: patients with at least one complete pair, and pairs at the
-- primary visit. Parameter: primary visit name.
SELECT count(DISTINCT (site_id, patient_id))  AS patients,
       count(*) FILTER (WHERE visit = $primary_visit)      AS pairs_at_primary
FROM outcomes.pro_changes;
