-- Accepted PRO rows obey the contract: known instrument, day range, value range in canonical units.
-- Parameters: instrument codes, their low bounds, their high bounds (parallel lists).
WITH bounds AS (
    SELECT unnest(?) AS instrument, unnest(?) AS low, unnest(?) AS high
), units AS (
    SELECT unnest(?) AS unit, unnest(?) AS factor
)
SELECT count(*) FILTER (
           WHERE b.instrument IS NULL
              OR r.days_from_index NOT BETWEEN -365 AND 3650
              OR r.value * coalesce(u.factor, 1.0) NOT BETWEEN b.low AND b.high
       ) AS failures,
       count(*) AS checked
FROM ingest.pro_responses r
LEFT JOIN bounds b USING (instrument)
LEFT JOIN units u ON u.unit = r.unit;
