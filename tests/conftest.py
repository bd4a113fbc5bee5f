"""Fixtures shared by the test modules: an in-memory warehouse and a landing folder."""

import os

import duckdb
import pytest

# Tests write drops and ingest them at once: no settling time (a drop is otherwise taken only when it holds
# manifest.json or none of its files changed for 10 s). Set here so that child processes inherit it; the
# readiness tests pass their own settling time and clock.
os.environ["OUTCOMES_SETTLE_SECONDS"] = "0"


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"
