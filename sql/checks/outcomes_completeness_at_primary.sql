-- Follow-up completeness at the primary visit per arm, for the configured instrument ('ANY' by default).
-- Parameters: $visit (the primary visit), $instrument.
SELECT arm, n, assessed, rate
FROM outcomes.follow_up_completeness
WHERE visit = $visit AND instrument = $instrument
ORDER BY arm_role DESC;
