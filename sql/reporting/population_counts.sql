-- The analysis population per arm (procedure), for results.json's population counts.
SELECT procedure, count(*) FROM staging.patients WHERE in_analysis GROUP BY procedure
