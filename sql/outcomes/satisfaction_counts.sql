-- Per arm, satisfaction definition and post-baseline visit (SAP section 3): respondents (patients of the
-- analysis population with a value of the definition's instrument at the visit) and satisfied (value <=
-- satisfied_max). Wilson CIs are added in Python.
-- Parameters (parallel lists): definition names, instruments, satisfied_max values, primary flags; then the
-- baseline visit name.
WITH definitions AS (
    SELECT unnest($definitions::VARCHAR[]) AS definition,
           unnest($instruments::VARCHAR[]) AS instrument,
           unnest($satisfied_max::DOUBLE[])  AS satisfied_max,
           unnest($primary_definition::BOOLEAN[]) AS primary_definition
)
SELECT p.procedure AS arm, p.arm AS arm_role, d.definition, d.instrument, d.satisfied_max,
       d.primary_definition, v.visit, v.visit_ordinal,
       count(*)                                           AS n,
       count(*) FILTER (WHERE v.value <= d.satisfied_max) AS satisfied
FROM staging.pro_visits v
JOIN definitions d USING (instrument)
JOIN staging.patients p USING (site_id, patient_id)
WHERE p.in_analysis
  AND v.visit_ordinal > (SELECT ordinal FROM staging.visit_windows WHERE visit = $baseline_visit)
GROUP BY ALL
ORDER BY arm_role DESC, primary_definition DESC, definition, visit_ordinal;
