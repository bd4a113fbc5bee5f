-- Follow-up completeness at the primary visit per arm, for the configured instrument ('ANY' by default).
-- Parameters: primary visit name, instrument.
SELECT arm, n, assessed, rate
FROM outcomes.follow_up_completeness
WHERE visit = ? AND instrument = ?
ORDER BY arm_role DESC;
