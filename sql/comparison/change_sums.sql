-- The sums a weighted difference in means needs (pipeline/comparison/robust.py, differences_from_sums) per
-- group (instrument, visit and visit ordinal as one number, grp_key) and arm, for the change from baseline and
-- for the responder flag (rows with a flag only), unweighted and weighted, over the rows of the temporary table
-- comparison_change_rows (sql/comparison/change_rows.sql; complete case or MAR): the 25 million change rows of a
-- large registry are aggregated here instead of being moved into Python. fsum: compensated (Kahan–Babuska)
-- sums, so that Σw²(y − ȳ)² = Σw²y² − 2ȳΣw²y + ȳ²Σw² keeps its precision. n_pos, n_r_pos: rows of positive
-- weight (the n of HC1: a patient of weight 0 is not in the fit, SAP 6 v2).
SELECT c.grp_key, c.treated,
       count(*) AS n, fsum(c.change) AS sy, fsum(c.change * c.change) AS syy,
       fsum(c.weight) AS sw, fsum(c.weight * c.change) AS swy, fsum(c.weight * c.weight) AS sww,
       fsum(c.weight * c.weight * c.change) AS swwy, fsum(c.weight * c.weight * c.change * c.change) AS swwyy,
       count(c.responder) AS n_r, fsum(c.responder::DOUBLE) AS sy_r,
       fsum(c.weight) FILTER (WHERE c.responder IS NOT NULL) AS sw_r, fsum(c.weight * c.responder::DOUBLE) AS swy_r,
       fsum(c.weight * c.weight) FILTER (WHERE c.responder IS NOT NULL) AS sww_r,
       fsum(c.weight * c.weight * c.responder::DOUBLE) AS swwy_r,
       count(*) FILTER (WHERE c.weight > 0) AS n_pos, count(c.responder) FILTER (WHERE c.weight > 0) AS n_r_pos
FROM comparison_change_rows c
GROUP BY ALL
ORDER BY c.grp_key, c.treated DESC;
