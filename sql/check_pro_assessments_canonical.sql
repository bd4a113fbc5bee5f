-- staging.pro_assessments: values in canonical units within the instrument's range; unit-bearing
-- instruments carry their canonical unit. Parameters: instruments, lows, highs, canonical units (parallel lists).
WITH bounds AS (
    SELECT unnest(?) AS instrument, unnest(?) AS low, unnest(?) AS high, unnest(?) AS canonical_unit
)
SELECT count(*) FILTER (
           WHERE b.instrument IS NULL
              OR a.value NOT BETWEEN b.low AND b.high
              OR a.unit IS DISTINCT FROM b.canonical_unit
       ) AS failures,
       count(*) AS checked
FROM staging.pro_assessments a
LEFT JOIN bounds b USING (instrument);
