-- Accepted PRO rows obey the contract: known instrument, day range, value range in canonical units.
-- Parameters: $instruments, $lows, $highs (parallel lists); $units, $factors (parallel lists).
WITH bounds AS (
    SELECT unnest($instruments) AS instrument, unnest($lows) AS low, unnest($highs) AS high
), units AS (
    SELECT unnest($units) AS unit, unnest($factors) AS factor
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
