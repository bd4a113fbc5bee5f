-- The proportional-hazards test of the reintervention Cox model (R's cox.zph), for its asset check.
SELECT statistic, df, p_value FROM durability.reintervention_comparison WHERE measure = 'ph_test';
