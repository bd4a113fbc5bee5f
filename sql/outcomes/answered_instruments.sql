-- Which instruments the analysed patients of each arm answered at some visit (in a window): to tell "never
-- recorded" from "no complete pair" when a change cannot be estimated (SAP 9). Only run when some arm and
-- instrument lack complete pairs. Parameter: list of instruments.
SELECT DISTINCT p.procedure AS arm, v.instrument
FROM staging.pro_visits v
JOIN staging.patients p USING (site_id, patient_id)
WHERE p.in_analysis AND list_contains($instruments::VARCHAR[], v.instrument);
