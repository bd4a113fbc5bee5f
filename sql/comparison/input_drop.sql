DROP TABLE IF EXISTS temp.comparison_input;
