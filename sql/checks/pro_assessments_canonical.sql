-- staging.pro_assessments: values in canonical units within the instrument's range; unit-bearing
-- instruments carry their canonical unit. Parameters: $instruments, $lows, $highs, $canonical_units
-- (parallel lists).
WITH bounds AS (
    SELECT unnest($instruments) AS instrument, unnest($lows) AS low, unnest($highs) AS high,
           unnest($canonical_units) AS canonical_unit
)
SELECT count(*) FILTER (
           WHERE b.instrument IS NULL
              OR a.value NOT BETWEEN b.low AND b.high
              OR a.unit IS DISTINCT FROM b.canonical_unit
       ) AS failures,
       count(*) AS checked
FROM staging.pro_assessments a
LEFT JOIN bounds b USING (instrument);
