DROP TABLE IF EXISTS temp.comparison_change_rows;
