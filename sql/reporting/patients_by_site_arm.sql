-- Analysis population per site and procedure (SAP section 1).
SELECT site_id, procedure, count(*) AS patients
FROM staging.patients
WHERE in_analysis
GROUP BY ALL
ORDER BY site_id, procedure;
