-- Key numbers of durability.reintervention_dataset for asset metadata: (name, value) per arm.
SELECT 'patients_' || procedure AS name, count(*) AS value FROM durability.reintervention_dataset GROUP BY procedure
UNION ALL
SELECT 'reinterventions_' || procedure, sum(event) FROM durability.reintervention_dataset GROUP BY procedure
UNION ALL
SELECT 'deaths_before_reintervention_' || procedure, sum(competing_event)
FROM durability.reintervention_dataset GROUP BY procedure
ORDER BY name;
