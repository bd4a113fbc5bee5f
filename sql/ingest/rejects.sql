-- Record numbers of the malformed records of the last CSV read, and whether any was an encoding error.
SELECT line, bool_or(CAST(error_type AS VARCHAR) = 'INVALID ENCODING') AS encoding
FROM ingest_rejects
GROUP BY line
ORDER BY line
