"""The one way to run a SQL model (pipeline/sql.py): named parameters, checked against the model, and DuckDB
errors that never repeat DuckDB's message (it may quote the data)."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.settings import REPO_ROOT
from pipeline.sql import SQL_DIR, SqlModelError, run, scalar


@pytest.fixture
def con():
    with duckdb.connect() as c:
        run(c, "ingest/schema")
        yield c


def test_a_missing_parameter_is_refused_with_the_model_named(con):
    with pytest.raises(TypeError, match=r"staging/table_exists needs parameter\(s\) \['table'\]"):
        run(con, "staging/table_exists", schema="ingest")


def test_a_parameter_the_model_does_not_use_is_not_passed(con):
    # DuckDB refuses a named parameter the statement does not use; the runner passes only the model's own.
    assert scalar(con, "staging/table_exists", schema="ingest", table="erasures", unused="anything") == 1


def test_a_duckdb_error_names_the_model_but_not_the_value(con):
    run(con, "staging/build_state_table")
    with pytest.raises(SqlModelError) as caught:
        run(con, "staging/build_state_record", table="staging.patients", fingerprint="f", drop_ids=["d"],
            versions=["patient P-0042"], erasures=0, erased_until=None)
    assert caught.value.model == "staging/build_state_record"
    assert "P-0042" not in str(caught.value) and caught.value.__cause__ is None
    assert str(caught.value) == "SQL model staging/build_state_record failed (ConversionException)"


def test_a_wrapped_error_is_still_duckdbs_own_class(con):
    # Callers that expect a missing table (an older warehouse) keep catching DuckDB's exception class.
    with pytest.raises(duckdb.CatalogException) as caught:
        run(con, "comparison/propensity_inputs")
    assert isinstance(caught.value, SqlModelError) and caught.value.is_bug


def test_every_sql_model_is_named_literally_in_the_code():
    """grep finds every use of a model: its name ("stage/model") stands whole in pipeline/ or assets/."""
    code = "\n".join(p.read_text(encoding="utf-8")
                     for folder in ("pipeline", "assets") for p in (REPO_ROOT / folder).rglob("*.py"))
    names = [str(p.relative_to(SQL_DIR).with_suffix("")) for p in sorted(SQL_DIR.rglob("*.sql"))]
    assert names and [n for n in names if f'"{n}"' not in code] == []
