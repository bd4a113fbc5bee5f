-- Time to reintervention and event flag of every patient of comparison.cohort in the reintervention data set
-- (the pooled KM of the E-value's common-outcome rule).
SELECT reintervention_time, reintervention_event FROM comparison.cohort WHERE reintervention_time IS NOT NULL;
