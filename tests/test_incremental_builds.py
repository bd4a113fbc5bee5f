"""Incremental staging and outcomes builds equal a from-scratch build, step after step.

Two warehouses receive the same sequence of deliveries (first drops, later drops, a corrected drop, an
erasure, a night with nothing new). After every step warehouse A is brought up to date incrementally (only
the changed patients are rebuilt) and warehouse B is rebuilt from scratch; every staging and outcomes table
must hold the same rows with the same values.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline import outcomes, staging
from pipeline.incremental import recorded
from pipeline.study import load_study
from tests.hostile.runs import first_delivery
from tests.ingest_helpers import ingest, patient, write_drop, write_manifest

STUDY = load_study()
# Written at ingest or build time, so they differ between two warehouses built from the same data.
VOLATILE = {"erased_until", "recorded_at"}


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    relations = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('staging', 'outcomes') "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE schema_name = 'staging' "
        "ORDER BY ALL").fetchall()
    for schema, name in relations:
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "ORDER BY column_index", [schema, name]).fetchall() if c not in VOLATILE]
        select = ", ".join(f'"{c}"' for c in cols)
        out[f"{schema}.{name}"] = sorted(con.execute(f'SELECT {select} FROM "{schema}"."{name}"').fetchall(),
                                         key=repr)
    return out


def _same(got: list[tuple], want: list[tuple], exact: bool) -> bool:
    """Equal rows; aggregates (`exact` False) may differ in the last bits of a float, because rows stored in
    another order are summed in another order."""
    if exact or len(got) != len(want):
        return got == want
    return all(
        len(g) == len(w) and all(
            math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) if isinstance(x, float) and isinstance(y, float)
            else x == y for x, y in zip(g, w, strict=True))
        for g, w in zip(got, want, strict=True))


def _build(con: duckdb.DuckDBPyConnection, *, full: bool) -> dict[str, dict]:
    """Every staging and outcomes table; the build metadata of the patient-level ones."""
    how = {}
    for name in staging.STAGING_MODELS:
        how[f"staging.{name}"] = staging.build_model(con, name, STUDY, full=full).build
    outcomes.check_staging_matches(con, STUDY)
    for name, build in outcomes.BUILDERS.items():
        built = build(con, STUDY, full=full) if name == "pro_changes" else build(con, STUDY)
        how[f"outcomes.{name}"] = built.build
    return how


def _edit(folder: Path, table: str, patient_id: str, column: str, change) -> None:
    """Change `column` of the patient's first well-formed row of <table>.csv, every other byte kept (the
    generated files hold defective rows on purpose); the manifest follows."""
    path = folder / f"{table}.csv"
    lines = path.read_bytes().split(b"\n")
    header = next(csv.reader(io.StringIO(lines[0].decode("utf-8-sig").rstrip("\r"))))
    for i, line in enumerate(lines):
        fields = next(csv.reader(io.StringIO(line.decode("utf-8", "replace").rstrip("\r"))), [])
        if len(fields) == len(header) and fields[header.index("patient_id")] == patient_id:
            try:
                fields[header.index(column)] = change(fields[header.index(column)])
            except ValueError:
                continue
            lines[i] = ",".join(fields).encode() + (b"\r" if line.endswith(b"\r") else b"")
            break
    else:
        raise AssertionError(f"no row to edit in {table}")
    path.write_bytes(b"\n".join(lines))
    if (folder / "manifest.json").exists():
        write_manifest(folder)


def _remove(folder: Path, patient_id: str) -> None:
    """Delete every line naming `patient_id` from the drop's three tables; the manifest follows."""
    for table in ("patients", "pro_responses", "events"):
        path = folder / f"{table}.csv"
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join(line for line in lines if f",{patient_id},".encode() not in line))
    if (folder / "manifest.json").exists():
        write_manifest(folder)


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    full, landing, first, later = first_delivery(root, patients=120, seed=5)
    a = duckdb.connect(str(root / "a.duckdb"))
    b = duckdb.connect(str(root / "b.duckdb"))
    out = {}

    def step(name: str) -> None:
        for con in (a, b):
            ingest(con, landing)
        how = _build(a, full=False)
        _build(b, full=True)
        out[name] = {"how": how, "a": _snapshot(a), "b": _snapshot(b)}

    step("first")
    for d in later:
        shutil.copytree(full / d, landing / d)
    step("later")
    drop = first[0]
    site = drop.split("_", 1)[1]
    (patient_id, dropped) = a.execute(
        "SELECT min(patient_id), max(patient_id) FROM ingest.current_pro_responses WHERE drop_id = ?",
        [drop]).fetchone()
    out["drop_keys"] = a.execute(
        "SELECT count(DISTINCT (site_id, patient_id)) FROM (SELECT site_id, patient_id FROM ingest.patients "
        "WHERE drop_id = ? UNION ALL SELECT site_id, patient_id FROM ingest.pro_responses WHERE drop_id = ? "
        "UNION ALL SELECT site_id, patient_id FROM ingest.events WHERE drop_id = ?)", [drop] * 3).fetchone()[0]
    # A correction: one patient's age and one PRO value changed in a drop delivered before.
    _edit(landing / drop, "patients", patient_id, "age_at_index", lambda v: str(int(v) + 3))
    _edit(landing / drop, "pro_responses", patient_id, "value", lambda v: str(abs(float(v) - 1)))
    # ... and a patient left out of it: only the superseded version names them.
    _remove(landing / drop, dropped)
    step("correction")
    erased = a.execute("SELECT patient_id FROM staging.patients WHERE site_id = ? AND in_analysis "
                       "ORDER BY patient_id DESC LIMIT 1", [site]).fetchone()[0]
    out["erased"] = (site, erased)
    write_drop(landing, f"2026-12-01_{site}", patients=[], erasures=[{"site_id": site, "patient_id": erased}])
    step("erasure")
    step("nothing_new")
    a.close()
    b.close()
    return out


@pytest.mark.parametrize("name", ["first", "later", "correction", "erasure", "nothing_new"])
def test_incremental_build_equals_a_build_from_scratch(steps, name):
    got, want = steps[name]["a"], steps[name]["b"]
    assert list(got) == list(want)
    for table in want:
        exact = table.startswith("staging.") or table == "outcomes.pro_changes"
        assert _same(got[table], want[table], exact), table
    assert want["staging.patients"] and want["outcomes.pro_changes"] and want["staging.pro_visits"]


def test_patient_level_tables_are_built_incrementally_after_the_first_build(steps):
    patient_level = [t for t, how in steps["first"]["how"].items() if how.get("build") == "full"]
    assert sorted(patient_level) == ["outcomes.pro_changes", "staging.events", "staging.follow_up",
                                     "staging.patients", "staging.pro_assessments"]
    for name in ("later", "correction", "erasure", "nothing_new"):
        for table in patient_level:
            assert steps[name]["how"][table]["build"] == "incremental", (name, table)


def test_only_the_patients_of_changed_drop_versions_are_rebuilt(steps):
    patients = len(steps["correction"]["a"]["staging.patients"])
    for table in ("staging.patients", "staging.pro_assessments", "outcomes.pro_changes"):
        # The patients named by the corrected drop's old or new version.
        assert steps["correction"]["how"][table]["patients_rebuilt"] == steps["drop_keys"] < patients
        assert steps["erasure"]["how"][table]["patients_rebuilt"] == 1
        assert steps["nothing_new"]["how"][table]["patients_rebuilt"] == 0


def test_the_erased_patient_is_gone_from_every_incremental_table(steps):
    site, patient_id = steps["erased"]
    for table, rows in steps["erasure"]["a"].items():
        assert not any(patient_id in row for row in rows), table


def test_a_changed_study_or_missing_state_means_a_full_rebuild(con, tmp_path):
    write_drop(tmp_path / "landing", "d1")
    ingest(con, tmp_path / "landing")
    assert staging.build_model(con, "patients", STUDY).build["build"] == "full"
    assert staging.build_model(con, "patients", STUDY).build["build"] == "incremental"
    other = load_study(overrides='arms.comparator = "OTHER"')
    assert staging.build_model(con, "patients", other).build["build_reason"] == "SQL or study configuration changed"
    con.execute("DELETE FROM staging.build_state")
    assert staging.build_model(con, "patients", other).build["build_reason"] == "no earlier build"
    assert recorded(con, "staging.patients") is not None


def test_a_downstream_table_follows_the_state_its_inputs_were_built_from(con, tmp_path):
    write_drop(tmp_path / "landing", "d1")
    ingest(con, tmp_path / "landing")
    staging.build_all(con, STUDY)
    # A new drop, but only patients is rebuilt: follow_up must not claim the new state.
    write_drop(tmp_path / "landing", "d2", patients=[patient(patient_id="P0002")])
    ingest(con, tmp_path / "landing")
    staging.build_model(con, "patients", STUDY)
    result = staging.build_model(con, "follow_up", STUDY)
    assert result.build["build"] == "full"
    assert result.build["build_reason"] == "upstream tables built from different ingest states"
    assert recorded(con, "staging.follow_up") is None
