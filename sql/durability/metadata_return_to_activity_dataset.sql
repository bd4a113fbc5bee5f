-- Key numbers of durability.return_to_activity_dataset for asset metadata: (name, value) per arm.
SELECT 'patients_' || procedure AS name, count(*) AS value
FROM durability.return_to_activity_dataset GROUP BY procedure
UNION ALL
SELECT 'returned_' || procedure, sum(event) FROM durability.return_to_activity_dataset GROUP BY procedure
ORDER BY name;
