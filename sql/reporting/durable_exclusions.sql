-- Durable-response exclusions per arm and reason (SAP 4.2 attrition).
SELECT procedure AS arm, exclusion, count(*) AS patients
FROM durability.durable_response_dataset
WHERE NOT included
GROUP BY ALL
ORDER BY arm, exclusion;
