-- Every rate of an outcomes table is a proportion of a non-empty group: n > 0, 0 <= rate <= 1, and its
-- 95% CI lies within [0, 1] and contains the rate. Parameter: the table, schema-qualified (from a fixed
-- list in pipeline/outcomes/checks.py; query_table() takes it as a value, never as SQL text).
SELECT count(*) FILTER (WHERE NOT coalesce(
           n > 0 AND rate BETWEEN 0 AND 1 AND ci_lower BETWEEN 0 AND rate AND ci_upper BETWEEN rate AND 1,
           false)) AS failures,
       count(*)    AS checked
FROM query_table(?::VARCHAR);
