"""Ingest and staging over many landing shapes (issue 12), without Dagster, so that far more shapes are tried
than whole refreshes allow (tests/test_landing_shapes.py runs 10). Landings come from tests/landing_shapes.py,
not from our sample generator: every contract-valid row is accepted, every file reconciles, and the rows and
patients per site are those delivered, whatever the ids, sites per drop, formats and erasures."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings

from pipeline.sql import run
from pipeline.staging import build_all
from pipeline.study import load_study
from tests import landing_shapes as shapes_
from tests.ingest_helpers import ingest


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(shapes_.shapes())
def test_every_contract_valid_row_is_accepted_and_counted_under_its_own_site(shape):
    landing = shapes_.build(shape)
    with tempfile.TemporaryDirectory(prefix="landing_ingest_") as tmp, duckdb.connect() as con:
        summary = ingest(con, shapes_.write(landing, Path(tmp) / "landing"))
        assert [d.status for d in summary.drops] == ["ingested"] * len(summary.drops), landing.describe()
        files = {(d.drop_id, f.file): f for d in summary.drops for f in d.files}
        assert {k: f.rows_read for k, f in files.items()} == landing.rows_per_file(), landing.describe()
        for f in files.values():
            assert (f.quarantined, f.rows_read) == (0, f.accepted + f.duplicates), landing.describe()
        assert con.execute("SELECT count(*) FROM ingest.quarantine").fetchone()[0] == 0

        build_all(con, load_study())
        patients = dict(con.execute(
            "SELECT procedure, count(*) FROM staging.patients WHERE in_analysis GROUP BY ALL").fetchall())
        assert {a: patients.get(a, 0) for a in shapes_.ARMS} == landing.per_arm(), landing.describe()
        steps = run(con, "reporting/attrition_by_site").fetchall()
        read = {site: n for site, step, _detail, n in steps if step == "patient_rows_read" and n}
        assert read == landing.patient_rows_per_site(), landing.describe()
