-- Patients of the analysis population with at least one assessment per visit, per procedure: the 'ANY'
-- numerator of outcomes.follow_up_completeness (an in-window assessment implies that follow-up reached the
-- window, so it equals a count over staging.pro_visits), read from that aggregate table.
SELECT c.visit, c.visit_ordinal AS ordinal, c.arm AS procedure, c.assessed AS patients
FROM outcomes.follow_up_completeness c
WHERE c.instrument = 'ANY' AND c.assessed > 0
ORDER BY c.visit_ordinal, c.arm;
