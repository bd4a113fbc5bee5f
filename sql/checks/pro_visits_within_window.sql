-- staging.pro_visits: no visit assigned outside its window.
SELECT count(*) FILTER (WHERE w.visit IS NULL OR v.days_from_index NOT BETWEEN w.start_day AND w.end_day)
           AS failures,
       count(*) AS checked
FROM staging.pro_visits v
LEFT JOIN staging.visit_windows w USING (visit);
