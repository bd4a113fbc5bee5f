-- Helpers of the ingest check models (temporary: they live as long as the connection).
-- They take an already parsed DOUBLE (TRY_CAST(x AS DOUBLE)), so each value is parsed once.

-- A number must be finite: 'nan' and 'inf' parse as DOUBLE but are not values.
CREATE OR REPLACE TEMP MACRO ingest_as_num(d) AS CASE WHEN isfinite(d) THEN d END;

-- Integer columns accept "3" and "3.0" but not "3.5".
CREATE OR REPLACE TEMP MACRO ingest_as_int(d) AS
    CASE WHEN isfinite(d) AND d = trunc(d) AND abs(d) <= 2147483647 THEN CAST(d AS INTEGER) END;

-- Present but not a number: only such values of numeric columns are scanned for identifiers, so that a
-- valid number ("12000" ft) is never mistaken for a ZIP code.
CREATE OR REPLACE TEMP MACRO ingest_not_number(x, d) AS x IS NOT NULL AND d IS NULL;

-- The first failing rule of a row: reason code, column, and (identifier hits only) the offending text,
-- which stays in the temporary check table just long enough to name the identifier kind.
CREATE OR REPLACE TEMP MACRO ingest_fault(code, col) AS {'code': code, 'col': col, 'val': NULL::VARCHAR};
CREATE OR REPLACE TEMP MACRO ingest_hit(col, val) AS {'code': 'identifier_in_text', 'col': col, 'val': val};
