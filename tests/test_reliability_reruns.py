"""Re-runs, incremental and corrected deliveries and erasure, proven through the whole nightly job.

The ingest unit tests (tests/test_ingest_history.py) cover the mechanics on single drops; here each step is
a full `nightly_refresh` run on a generated landing, and the warehouse (every table of every schema) and the
published report are compared between steps.
"""

import csv
import hashlib
import io
import shutil

import dagster as dg
import duckdb
import pytest

from tests.hostile.runs import first_delivery, generated_landing, report_text, run_job, settings_for, snapshot
from tests.ingest_helpers import write_drop, write_manifest

pytestmark = pytest.mark.slow
HISTORY = {"ingest.drop_log"}  # the log of every look at a drop grows with every run, by design


def _state(settings, result) -> dict:
    return {
        "tables": snapshot(settings.warehouse, skip=HISTORY),
        "report": report_text(settings.reports, (result.run_id,)),
        "metadata": {
            m.asset_key.to_user_string(): {k: v.value for k, v in m.materialization.metadata.items()}
            for m in result.get_asset_materialization_events()
        },
    }


def _fetch(settings, sql: str, params: list | None = None) -> list[tuple]:
    """The rows of one query on the warehouse, opened read-only between runs."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _log_statuses(settings, run_id: str) -> list[str]:
    return [s for (s,) in _fetch(settings, "SELECT status FROM ingest.drop_log WHERE run_id = ?", [run_id])]


# --- incremental, re-delivery, correction, erasure ----------------------------------------------------------


def _rows_by_drop(settings, table: str) -> dict[str, int]:
    return dict(_fetch(settings, f"SELECT drop_id, count(*) FROM ingest.{table} GROUP BY ALL"))


def _set_age(folder, patient_id: str, age: str) -> None:
    """Change one patient's age_at_index in patients.csv, every other byte kept; the manifest follows."""
    path = folder / "patients.csv"
    lines = path.read_bytes().split(b"\n")
    header = next(csv.reader(io.StringIO(lines[0].decode("utf-8-sig").rstrip("\r"))))
    [i] = [i for i, line in enumerate(lines) if f",{patient_id},".encode() in line]
    cr = lines[i].endswith(b"\r")
    fields = next(csv.reader(io.StringIO(lines[i].decode().rstrip("\r"))))
    fields[header.index("age_at_index")] = age
    lines[i] = ",".join(fields).encode() + (b"\r" if cr else b"")
    path.write_bytes(b"\n".join(lines))
    if (folder / "manifest.json").exists():
        write_manifest(folder)


def _where_patient(settings, site: str, patient_id: str) -> dict[str, int]:
    """Rows naming the patient, per table of every schema that has a patient_id column, except the erasure
    audit (ingest.erasures), which keeps site, patient, drop and time by contract."""
    found = {}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name, list(column_name) FROM duckdb_columns() "
            "WHERE NOT internal GROUP BY ALL HAVING list_contains(list(column_name), 'patient_id')"
        ).fetchall()
        for schema, table, cols in tables:
            if (schema, table) == ("ingest", "erasures"):
                continue
            where = "patient_id = ?" + (" AND site_id = ?" if "site_id" in cols else "")
            params = [patient_id, site] if "site_id" in cols else [patient_id]
            n = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE {where}', params).fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """Six nightly runs on one warehouse, the landing changing between them as a site would change it."""
    root = tmp_path_factory.mktemp("deliveries")
    full, landing, first, later = first_delivery(root, patients=100, seed=11)
    settings = settings_for(root, landing)
    instance = dg.DagsterInstance.ephemeral()
    steps = {}

    def step(name):
        result = run_job(settings, instance)
        assert result.success, name
        steps[name] = {**_state(settings, result), "run_id": result.run_id,
                       "rows": {t: _rows_by_drop(settings, t) for t in ("patients", "pro_responses", "events")}}

    step("first")
    # 1. Byte-identical re-delivery: the same folders written again (new inode and mtime, same bytes).
    for d in first:
        shutil.rmtree(landing / d)
        shutil.copytree(full / d, landing / d)
    step("identical")
    # 2. Incremental: the next delivery of every site.
    for d in later:
        shutil.copytree(full / d, landing / d)
    step("incremental")
    # 3. Correction: 2026-05-15_SITE01 delivered again with one patient's age changed.
    site = "SITE01"
    drop = f"2026-05-15_{site}"
    [(corrected, old_age)] = _fetch(
        settings,
        "SELECT patient_id, age_at_index FROM ingest.current_patients WHERE drop_id = ? AND age_at_index < 80 "
        "ORDER BY patient_id LIMIT 1", [drop])
    [(erased,)] = _fetch(
        settings,
        "SELECT p.patient_id FROM ingest.current_patients p JOIN staging.patients s USING (site_id, patient_id) "
        "WHERE p.drop_id = ? AND p.patient_id <> ? AND EXISTS (SELECT 1 FROM ingest.events e "
        "WHERE e.site_id = p.site_id AND e.patient_id = p.patient_id) ORDER BY p.patient_id LIMIT 1",
        [drop, corrected])
    original = {p.name: p.read_bytes() for p in (landing / drop).iterdir()}
    _set_age(landing / drop, corrected, str(old_age + 5))
    step("correction")
    steps["correction"]["versions"] = _fetch(
        settings, "SELECT version, status, superseded_by FROM ingest.drop_versions WHERE drop_id = ? ORDER BY version",
        [drop])
    steps["correction"]["history"] = _fetch(
        settings, "SELECT version, age_at_index FROM ingest.patients WHERE drop_id = ? AND patient_id = ? "
        "ORDER BY version", [drop, corrected])
    [steps["correction"]["staged"]] = _fetch(
        settings, "SELECT age_at_index FROM staging.patients WHERE site_id = ? AND patient_id = ?", [site, corrected])
    # 4. Erasure: a new drop of the site with nothing but erasures.csv rows.
    write_drop(landing, f"2026-12-01_{site}", patients=[], erasures=[{"site_id": site, "patient_id": erased}])
    step("erasure")
    # Read now: by the time the tests run, the older drops have been delivered again (step 5).
    steps["erasure"]["where_erased"] = _where_patient(settings, site, erased)
    # 5. Older drops delivered again: the original bytes of the corrected drop, and the same under a new id.
    for name, raw in original.items():
        (landing / drop / name).write_bytes(raw)
    shutil.copytree(full / drop, landing / f"2026-12-02_{site}_resend")
    step("redelivery")
    return {"settings": settings, "steps": steps, "site": site, "drop": drop, "corrected": corrected,
            "old_age": old_age, "erased": erased, "first": first, "later": later}


def test_idempotency_a_second_run_on_the_same_landing_changes_nothing(deliveries):
    """Run 2 sees the same landing (every folder written again, same bytes): every drop is skipped, every
    table of every schema and every published file (provenance aside) is as after run 1."""
    s = deliveries["steps"]
    assert s["identical"]["tables"] == s["first"]["tables"]
    assert s["identical"]["report"] == s["first"]["report"]
    assert set(_log_statuses(deliveries["settings"], s["identical"]["run_id"])) == {"skipped"}


def test_idempotency_a_fresh_warehouse_from_the_same_landing_holds_the_same(deliveries, tmp_path):
    landing = generated_landing(tmp_path / "landing", patients=100, seed=11, deliveries="2026-05")
    fresh = settings_for(tmp_path, landing)
    result = run_job(fresh, dg.DagsterInstance.ephemeral())
    state = _state(fresh, result)
    assert state["tables"] == deliveries["steps"]["first"]["tables"]
    assert state["report"] == deliveries["steps"]["first"]["report"]


def test_a_new_drop_adds_only_its_own_rows(deliveries):
    s, later = deliveries["steps"], deliveries["later"]
    accepted = dict(_fetch(
        deliveries["settings"],
        "SELECT file, sum(accepted) FROM ingest.drop_files WHERE list_contains(?, drop_id) GROUP BY ALL", [later]))
    for table in ("patients", "pro_responses", "events"):
        before, after = s["identical"]["rows"][table], s["incremental"]["rows"][table]
        assert {d: n for d, n in after.items() if d not in later} == before  # earlier drops: untouched
        assert sum(n for d, n in after.items() if d in later) == accepted[f"{table}.csv"]
    # Every row held before is still held, byte for byte (history is never rewritten).
    for table in ("ingest.patients", "ingest.pro_responses", "ingest.events"):
        assert set(s["identical"]["tables"][table]) <= set(s["incremental"]["tables"][table])
    assert s["incremental"]["metadata"]["drop_reconciliation"]["drops_ingested"] == len(later)


def test_a_corrected_redelivery_supersedes_and_keeps_history(deliveries):
    d = deliveries
    versions, history, staged = (d["steps"]["correction"][k] for k in ("versions", "history", "staged"))
    assert versions == [(1, "ingested", 2), (2, "ingested", None)]
    assert history == [(1, d["old_age"]), (2, d["old_age"] + 5)]
    assert staged == (d["old_age"] + 5,)
    # Version 1's rows stay stored (history) although they left the current views.
    v1 = [r for r in d["steps"]["incremental"]["rows"]["pro_responses"].items() if r[0] == d["drop"]]
    assert d["steps"]["correction"]["rows"]["pro_responses"][d["drop"]] == 2 * v1[0][1]


def test_erasure_removes_the_patient_from_every_table_and_the_report(deliveries):
    d = deliveries
    s = d["steps"]
    assert s["erasure"]["where_erased"] == {}
    audit = _fetch(d["settings"], "SELECT site_id, patient_id, drop_id, erased_at IS NOT NULL, rows_deleted "
                                  "FROM ingest.erasures")
    assert len(audit) == 1
    site, pid, drop_id, stamped, deleted = audit[0]
    assert (site, pid, drop_id, stamped) == (d["site"], d["erased"], f"2026-12-01_{d['site']}", True)
    assert deleted > 1
    # The report produced afterwards counts one patient fewer in the patient's arm.
    before = s["correction"]["metadata"]["overview_report"]
    after = s["erasure"]["metadata"]["overview_report"]
    per_arm = [k for k in before if k.startswith("patients_")]
    assert per_arm and sum(before[k] for k in per_arm) - sum(after[k] for k in per_arm) == 1
    assert not any(d["erased"] in text for text in s["erasure"]["report"].values())


def test_redelivering_older_drops_does_not_bring_an_erased_patient_back(deliveries):
    d = deliveries
    s = d["steps"]
    assert _where_patient(d["settings"], d["site"], d["erased"]) == {}
    resend = _fetch(d["settings"], "SELECT reason_code, count(*), count(patient_id) FROM ingest.quarantine "
                                   "WHERE drop_id = ? AND reason_code = 'erased_patient' GROUP BY ALL",
                    [f"2026-12-02_{d['site']}_resend"])
    restored = _fetch(d["settings"], "SELECT status FROM ingest.drop_log WHERE drop_id = ? AND run_id = ?",
                      [d["drop"], s["redelivery"]["run_id"]])
    # The copy under a new id: every row of the erased patient quarantined, without the ids.
    assert resend and resend[0][1] > 1 and resend[0][2] == 0
    # The original bytes of the corrected drop: identical to version 1, skipped (docs/ingest.md).
    assert restored == [("skipped",)]
    assert s["redelivery"]["metadata"]["overview_report"] == {
        **s["redelivery"]["metadata"]["overview_report"],
        **{k: v for k, v in s["erasure"]["metadata"]["overview_report"].items() if k.startswith("patients_")},
    }


def test_identical_bytes_mean_identical_fingerprints(deliveries):
    """Sanity of the re-delivery step: the copied folders really were byte-identical."""
    full = deliveries["settings"].landing.parent / "all"
    for d in deliveries["first"]:
        for f in (full / d).iterdir():
            held = deliveries["settings"].landing / d / f.name
            if d != deliveries["drop"]:
                assert hashlib.sha256(held.read_bytes()).digest() == hashlib.sha256(f.read_bytes()).digest()
