-- Every rate of an outcomes table is a proportion with its 95% CI, or is not estimable (SAP 9). A row with
-- n > 0 has 0 <= rate <= 1 and ci_lower <= rate <= ci_upper within [0, 1]; a row with n = 0 (an arm without
-- patients, or without a los_days) has rate and CI all NULL: an absent number, not a wrong one. Anything else
-- fails (a rate outside [0, 1] or its CI, a rate without a group, a group of n > 0 without its rate).
-- Parameter: $table, schema-qualified (from the fixed check specs of pipeline/outcomes/checks.py;
-- query_table() takes it as a value, never as SQL text).
SELECT count(*) FILTER (WHERE NOT coalesce(
           CASE WHEN n = 0 THEN rate IS NULL AND ci_lower IS NULL AND ci_upper IS NULL
                ELSE n > 0 AND rate BETWEEN 0 AND 1
                     AND ci_lower BETWEEN 0 AND rate AND ci_upper BETWEEN rate AND 1
           END,
           false))                    AS failures,
       count(*)                       AS checked,
       count(*) FILTER (WHERE n = 0)  AS rows_not_estimable
FROM query_table($table::VARCHAR);
