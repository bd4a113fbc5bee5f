"""The one writer of computed tables (pipeline.warehouse.write_table): what any stage writes keeps its columns
and types whatever the data, NULL where a number does not exist, and only into the pipeline's own tables."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.warehouse import write_table


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    with duckdb.connect() as c:
        yield c


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    return dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_schema = ? AND table_name = ?", [schema, name]).fetchall())


def test_an_empty_frame_keeps_its_text_columns_as_varchar(con):
    empty = pd.DataFrame({"arm": pd.Series([], dtype=object), "n": pd.Series([], dtype="int64")})
    assert write_table(con, "outcomes.complication_rates", empty) == 0
    assert column_types(con, "outcomes.complication_rates") == {"arm": "VARCHAR", "n": "BIGINT"}


def test_an_all_null_text_column_is_varchar(con):
    write_table(con, "comparison.propensity_inputs", pd.DataFrame({"not_estimable": [None]}, dtype=object))
    assert column_types(con, "comparison.propensity_inputs") == {"not_estimable": "VARCHAR"}


def test_booleans_with_gaps_are_a_nullable_boolean(con):
    frame = pd.DataFrame({"balance_achieved": [True, None, False]}, dtype=object)
    write_table(con, "comparison.adjusted_estimates", frame)
    assert column_types(con, "comparison.adjusted_estimates") == {"balance_achieved": "BOOLEAN"}
    assert con.execute("SELECT count(*) FROM comparison.adjusted_estimates WHERE balance_achieved IS NULL"
                       ).fetchone()[0] == 1


def test_nan_is_written_as_null(con):
    write_table(con, "outcomes.responder_rates", pd.DataFrame({"arm": ["MILD", "LAMINECTOMY"], "rate": [0.5, np.nan]}))
    rows = con.execute("SELECT arm, rate FROM outcomes.responder_rates ORDER BY arm").fetchall()
    assert rows == [("LAMINECTOMY", None), ("MILD", 0.5)]


def test_declared_column_types_are_kept_for_an_empty_frame(con):
    types = {"arm": "VARCHAR", "day": "INTEGER", "survival": "DOUBLE", "converged": "BOOLEAN"}
    write_table(con, "durability.durable_response_turnbull", pd.DataFrame(columns=list(types)), types)
    assert column_types(con, "durability.durable_response_turnbull") == types


def test_declared_integer_columns_hold_whole_days_and_nan_becomes_null(con):
    frame = pd.DataFrame({"day": [365.0, 730.0], "survival": [0.9, np.nan]})
    write_table(con, "durability.reintervention_km", frame, {"day": "INTEGER", "survival": "DOUBLE"})
    assert con.execute("SELECT day, survival FROM durability.reintervention_km ORDER BY day").fetchall() == [
        (365, 0.9), (730, None)]


@pytest.mark.parametrize("name", ["outcomes.pro_changes", "staging.patients", "comparison.cohort",
                                  "durability.reintervention_km; DROP TABLE x", "responder_rates"])
def test_a_table_outside_the_allow_list_is_refused(con, name):
    with pytest.raises(ValueError):
        write_table(con, name, pd.DataFrame({"a": [1]}))


def test_a_column_type_outside_the_allow_list_is_refused(con):
    with pytest.raises(ValueError):
        write_table(con, "durability.reintervention_km", pd.DataFrame({"day": [1]}), {"day": "INTEGER); DROP"})
