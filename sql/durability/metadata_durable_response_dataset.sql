-- Key numbers of durability.durable_response_dataset for asset metadata (the attrition of SAP 4.2):
-- included patients and failures per arm, and excluded patients per arm and reason.
SELECT 'included_' || procedure AS name, count(*) FILTER (WHERE included) AS value
FROM durability.durable_response_dataset GROUP BY procedure
UNION ALL
SELECT 'failed_' || procedure, count(failure) FROM durability.durable_response_dataset GROUP BY procedure
UNION ALL
SELECT 'excluded_' || exclusion || '_' || procedure, count(*)
FROM durability.durable_response_dataset WHERE NOT included GROUP BY exclusion, procedure
ORDER BY name;
