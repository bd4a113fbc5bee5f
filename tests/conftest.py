"""Fixtures shared by the test modules: an in-memory warehouse and a landing folder."""

import duckdb
import pytest


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"
