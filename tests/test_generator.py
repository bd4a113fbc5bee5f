"""The sample-data generator: determinism, contract conformance, calibration and an exact truth file.

`reference_ingest` re-implements the contract's row rules independently (plain Python, `re`) and must
reproduce the generator's expected_ingest exactly: it is the executable statement of how the counts are
meant, for the ingest engineer as much as for this test.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import contract
from sample_data.defects import IDENTIFIER_DETAILS, TOO_LONG_DETAIL
from sample_data.events import DETAILS
from sample_data.generate import Options, generate

PATTERNS = {kind: re.compile(p) for kind, p in contract.IDENTIFIER_TEXT_PATTERNS.items()}
ID_FORMAT = re.compile(r"^P[A-HJ-NP-Z2-9]{8}$")
TEXT_COLUMNS = {c for cols in contract.COLUMNS.values() for c in cols} - set(contract.PATIENT_RANGES) - {
    "days_from_index", "value"}
INT_COLUMNS = {c for c, (_, _, i) in contract.PATIENT_RANGES.items() if i} | {"days_from_index"}
FLOAT_COLUMNS = {"bmi", "symptom_months", "value"}
KEYS = {"patients": ("site_id", "patient_id"),
        "pro_responses": ("site_id", "patient_id", "instrument", "days_from_index"),
        "events": contract.COLUMNS["events"]}


def _run(root: Path, **kw) -> tuple[Path, dict]:
    opt = Options(patients=kw.pop("patients", 600), seed=kw.pop("seed", 11), landing=root / "landing",
                  truth=root / "truth.json", parquet_sites=kw.pop("parquet_sites", {"SITE05"}), **kw)
    generate(opt)
    return opt.landing, json.loads(opt.truth.read_text())


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    return _run(tmp_path_factory.mktemp("with_defects"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    return _run(tmp_path_factory.mktemp("clean"), seed=12, defects=False)


def read_table(drop: Path, table: str) -> list[list[str] | None]:
    """Data records as lists of strings ('' = missing) in contract column order; None = malformed."""
    path = drop / f"{table}.csv"
    if path.exists():
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            assert header == list(contract.COLUMNS[table])
            return [r if len(r) == len(header) else None for r in reader]
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{drop / (table + '.parquet')}')").df()
    assert list(frame.columns) == list(contract.COLUMNS[table])

    def text(v) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
            return ""
        return str(int(v)) if isinstance(v, float) and v == int(v) else str(v)

    return [[text(v) for v in row] for row in frame.astype(object).itertuples(index=False)]


def _reason(table: str, row: dict[str, str], year: int) -> str | None:
    """The first contract reason (contract.REASON_CODES order) that applies, except duplicates/orphans."""
    if not re.match(contract.SITE_ID_PATTERN, row["site_id"]) or not re.match(
            contract.PATIENT_ID_PATTERN, row["patient_id"]):
        return "invalid_id"
    if any(p.search(row[c]) for c in row if c in TEXT_COLUMNS and row[c] for p in PATTERNS.values()):
        return "identifier_in_text"
    if any(row[c] == "" for c in row if c not in contract.NULLABLE[table]):
        return "missing_value"
    for c in row:
        if row[c] and ((c in INT_COLUMNS and not re.fullmatch(r"-?\d+", row[c]))
                       or (c in FLOAT_COLUMNS and not re.fullmatch(r"-?\d+(\.\d+)?", row[c]))):
            return "invalid_type"
    if table == "patients":
        if (not re.match(contract.PROCEDURE_PATTERN, row["procedure"]) or row["sex"] not in contract.SEXES
                or (row["anesthesia"] and row["anesthesia"] not in contract.ANESTHESIA)):
            return "unknown_code"
        for c, (lo, hi, _) in contract.PATIENT_RANGES.items():
            v = float(row[c]) if row[c] else None
            hi = float("inf") if c == "age_at_index" else year if c == "index_year" else hi
            if v is not None and not lo <= v <= hi:
                return "out_of_range"
        return None
    day = int(row["days_from_index"])
    if table == "events":
        if row["event"] not in contract.EVENTS:
            return "unknown_code"
        if not contract.EVENT_DAY_RANGE[0] <= day <= contract.EVENT_DAY_RANGE[1]:
            return "out_of_range"
        return "text_too_long" if len(row["detail"]) > contract.DETAIL_MAX_CHARS else None
    spec = contract.INSTRUMENTS.get(row["instrument"])
    if spec is None:
        return "unknown_code"
    if (row["unit"] not in spec.units) if spec.units else row["unit"] != "":
        return "invalid_unit"
    value = float(row["value"]) * contract.UNIT_FACTORS.get(row["unit"], 1.0)
    low_day, high_day = contract.PRO_DAY_RANGE
    if (not low_day <= day <= high_day or not spec.low <= value <= spec.high
            or (spec.post_only and day <= 0) or (spec.integer and value != int(value))):
        return "out_of_range"
    return None


def reference_ingest(landing: Path, lines: dict | None = None) -> dict:
    """Counts per drop and file, applying drops in drop_id order (see the module docstring); fills
    `lines` with {drop: {file: [[line, reason], ...]}} (header = line 1)."""
    year = date.today().year
    held: dict[str, dict[tuple, tuple]] = {t: {} for t in contract.TABLES}  # current row per key
    ever: dict[str, set[tuple]] = {t: set() for t in contract.TABLES}  # every accepted row
    patients: set[tuple[str, str]] = set()
    out = {}
    for drop in sorted(p for p in landing.iterdir() if p.is_dir()):
        files = {}
        for table in contract.TABLES:
            top = 0
            records = read_table(drop, table)
            cols = contract.COLUMNS[table]
            rows = [None if r is None else dict(zip(cols, r, strict=True)) for r in records]
            reasons = ["malformed_row" if r is None else _reason(table, r, year) for r in rows]
            groups: dict[tuple, set[tuple]] = {}
            for r, why in zip(rows, reasons, strict=True):
                if why is None:
                    groups.setdefault(tuple(r[c] for c in KEYS[table]), set()).add(tuple(r.values()))
            counts = dict.fromkeys(contract.REASON_CODES, 0)
            accepted = duplicates = superseded = 0
            seen: set[tuple] = set()
            name = next(p.name for p in drop.iterdir() if p.stem == table)
            found = []
            for line, (r, why) in enumerate(zip(rows, reasons, strict=True), start=2):
                if why is None and len(groups[tuple(r[c] for c in KEYS[table])]) > 1:
                    why = "conflicting_duplicate"
                if why is None and table != "patients" and (r["site_id"], r["patient_id"]) not in patients:
                    why = "orphan"
                if why is not None:
                    counts[why] += 1
                    found.append([line, why])
                    continue
                full, key = tuple(r.values()), tuple(r[c] for c in KEYS[table])
                if full in seen or full in ever[table]:
                    duplicates += 1
                    continue
                seen.add(full)
                accepted += 1
                superseded += key in held[table] and held[table][key] != full
                held[table][key] = full
                ever[table].add(full)
                if table == "patients":
                    patients.add(key)
                    top += int(r["age_at_index"]) > contract.AGE_TOP_CODE
            if found and lines is not None:
                lines.setdefault(drop.name, {})[name] = found
            files[name] = {"rows_read": len(rows), "accepted": accepted, "duplicates": duplicates,
                           "superseded": superseded, "quarantined": counts, "top_coded_ages": top}
        out[drop.name] = files
    return out


def test_expected_ingest_matches_reference_rules(sample):
    landing, truth = sample
    lines: dict = {}
    assert reference_ingest(landing, lines) == truth["expected_ingest"]
    expected = {d: {f: [row[:2] for row in rows] for f, rows in files.items()}
                for d, files in truth["expected_quarantine"].items()}
    assert lines == expected


def test_expected_ingest_adds_up_and_every_defect_kind_is_planted(sample):
    _, truth = sample
    for delivery in truth["deliveries"]:
        planted: set[str] = set()
        for drop_id in delivery["drops"]:
            for counts in truth["expected_ingest"][drop_id].values():
                q = counts["quarantined"]
                assert counts["rows_read"] == counts["accepted"] + counts["duplicates"] + sum(q.values())
                planted |= {reason for reason, n in q.items() if n}
        assert planted == set(contract.REASON_CODES) - {"erased_patient"}
    assert sum(c["top_coded_ages"] for d in truth["expected_ingest"].values() for c in d.values()) > 0
    lines = [r for files in truth["expected_quarantine"].values() for rows in files.values() for r in rows]
    assert len(lines) == sum(sum(c["quarantined"].values()) for d in truth["expected_ingest"].values()
                             for c in d.values())


def test_same_seed_gives_byte_identical_files(sample, tmp_path):
    landing, truth = sample
    again, truth2 = _run(tmp_path)
    first = {p.relative_to(landing): p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second and truth == truth2


def test_drops_follow_the_layout_and_manifest(sample):
    landing, truth = sample
    drops = sorted(p.name for p in landing.iterdir())
    assert drops == sorted(truth["expected_ingest"]) and len(drops) == 10
    for drop in landing.iterdir():
        manifest = json.loads((drop / "manifest.json").read_text())
        assert manifest["contract_version"] == contract.CONTRACT_VERSION
        fmt = "parquet" if drop.name.endswith("SITE05") else "csv"
        assert sorted(manifest["files"]) == sorted(f"{t}.{fmt}" for t in contract.TABLES)
        for name, digest in manifest["files"].items():
            assert hashlib.sha256((drop / name).read_bytes()).hexdigest() == digest
        for table in contract.TABLES:
            read_table(drop, table)  # asserts the columns


def _frames(landing: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for table in contract.TABLES:
        columns = list(contract.COLUMNS[table])
        parts = [pd.DataFrame([r for r in read_table(d, table) if r], columns=columns).assign(drop=d.name)
                 for d in sorted(landing.iterdir())]
        out[table] = pd.concat(parts, ignore_index=True)
    return out


def test_clean_rows_are_within_contract(clean):
    landing, truth = clean
    assert all(sum(c["quarantined"].values()) == 0 for d in truth["expected_ingest"].values()
               for c in d.values())
    f = _frames(landing)
    p, r, e = f["patients"], f["pro_responses"], f["events"]
    assert p["patient_id"].str.match(ID_FORMAT).all()
    for c, (lo, hi, integer) in contract.PATIENT_RANGES.items():
        v = pd.to_numeric(p[c].replace("", None))
        hi = 99 if c == "age_at_index" else hi  # over 90 is accepted and top-coded
        assert v.dropna().between(lo, hi).all(), c
        assert not integer or (v.dropna() == v.dropna().round()).all(), c
    assert (pd.to_numeric(p["index_year"]) <= 2026).all()
    assert set(p["procedure"]) == {"MILD", "LAMINECTOMY", "SPACER"} and set(p["sex"]) <= set(contract.SEXES)
    assert (pd.to_numeric(p["age_at_index"]) > 90).any()
    day = pd.to_numeric(r["days_from_index"])
    value = pd.to_numeric(r["value"])
    for code, spec in contract.INSTRUMENTS.items():
        sel = r["instrument"] == code
        assert sel.any(), code
        units = r.loc[sel, "unit"]
        assert set(units) == (set(spec.units) if spec.units else {""}), code
        canonical = value[sel] * units.map(lambda u: contract.UNIT_FACTORS.get(u, 1.0))
        assert canonical.between(spec.low, spec.high).all(), code
        assert not spec.post_only or (day[sel] > 0).all(), code
    assert set(r["instrument"]) == set(contract.INSTRUMENTS)
    assert (r["value"].str.len() <= 7).all()  # no 45.0000001
    assert (value[r["instrument"].isin(["ODI", "NRS_BACK", "NRS_LEG", "SATISFACTION"])] % 1 == 0).all()
    assert day.between(-365, 3650).all() and pd.to_numeric(e["days_from_index"]).between(0, 3650).all()
    assert set(e["event"]) == set(contract.EVENTS) and set(e["detail"]) - {""} <= set(DETAILS)
    # Assessments outside every visit window exist (days 1..13 and before day -90).
    assert ((day > 0) & (day < 14)).any() and (day < -90).any()


def test_nothing_after_death_withdrawal_or_the_cut(clean):
    landing, truth = clean
    f = _frames(landing)
    e = f["events"].drop_duplicates(subset=list(contract.COLUMNS["events"])).copy()  # repeats: duplicates
    r = f["pro_responses"]
    e["d"], r["d"] = pd.to_numeric(e["days_from_index"]), pd.to_numeric(r["days_from_index"])
    stop = e[e["event"].isin(["DEATH", "WITHDRAWN"])].set_index(["site_id", "patient_id"])["d"]
    assert stop.index.is_unique
    ev = e.join(stop.rename("stop"), on=["site_id", "patient_id"])
    assert (ev["d"] <= ev["stop"].fillna(99999)).all()
    pr = r.join(stop.rename("stop"), on=["site_id", "patient_id"])
    assert (pr["d"] < pr["stop"].fillna(99999)).all()
    # every row names a patient of the same or an earlier drop of the site
    known = f["patients"].groupby(["site_id", "patient_id"], as_index=False)["drop"].min()
    known = known.rename(columns={"drop": "first"})
    for table in (e, r):
        joined = table.merge(known, on=["site_id", "patient_id"], how="left")
        assert joined["first"].notna().all() and (joined["first"].str[:10] <= joined["drop"].str[:10]).all()


def test_confounding_as_in_practice(clean):
    p = _frames(clean[0])["patients"]
    p["age"] = pd.to_numeric(p["age_at_index"])
    mild, lam = p[p["procedure"] == "MILD"], p[p["procedure"] == "LAMINECTOMY"]
    assert mild["age"].mean() > lam["age"].mean() + 1.5
    assert (mild["sex"] == "F").mean() > (lam["sex"] == "F").mean() + 0.05
    assert 0.3 < len(mild) / (len(mild) + len(lam)) < 0.5
    assert (mild["los_days"] == "0").mean() > 0.8 > (lam["los_days"] == "0").mean()


def test_truth_file_has_the_documented_keys(sample):
    _, truth = sample
    assert {"seed", "as_of", "sizes", "parameters", "truth", "expected_ingest", "expected_quarantine",
            "deliveries"} <= set(truth)
    visits = ["W6", "M3", "M6", "M12", "M24", "M36", "M48", "M60"]
    for arm in ("MILD", "LAMINECTOMY"):
        a = truth["truth"]["arms"][arm]
        assert a["patients"] == truth["sizes"]["patients_by_procedure"][arm]
        for key in ("satisfaction_probability", "odi_responder_probability", "odi_mean_change"):
            assert list(a[key]) == visits
        assert list(a["freedom_from_reintervention"]) == ["365", "730", "1095", "1461", "1826"]
        assert list(a["return_to_activity_by_day"]) == ["14", "28"]
        assert 0 < a["complication_90d_probability"] < 0.2 and 0 < a["same_day_discharge_probability"] < 1
        assert -22 < a["odi_mean_change"]["M12"] < -12
    effects = truth["truth"]["arm_effects"]
    assert set(effects["odi_change_difference"]["M12"]) == {"latent", "ate", "att", "overlap"}
    assert {"arms", "hazard_ratio_by_day", "freedom_by_population"} <= set(effects["reintervention"])


def test_text_values_and_ids_do_not_look_like_identifiers(sample):
    f = _frames(sample[0])
    planted = set(IDENTIFIER_DETAILS.values())
    for table, frame in f.items():
        for column in set(frame.columns) & TEXT_COLUMNS:
            values = set(frame[column]) - planted - {""}
            hits = [v for v in values for p in PATTERNS.values() if p.search(v)]
            assert not hits, (table, column, hits[:3])
    for kind, text in IDENTIFIER_DETAILS.items():
        assert [k for k, p in PATTERNS.items() if p.search(text)] == [kind]
    assert len(TOO_LONG_DETAIL) > contract.DETAIL_MAX_CHARS
    assert not any(p.search(TOO_LONG_DETAIL) for p in PATTERNS.values())


def test_second_delivery_repeats_rows_and_adds_patients(sample):
    landing, truth = sample
    first, second = (d["drops"] for d in truth["deliveries"])
    for a, b in zip(first, second, strict=True):
        for table in contract.TABLES:
            old = {tuple(r) for r in read_table(landing / a, table) if r}
            assert any(tuple(r) in old for r in read_table(landing / b, table) if r), (b, table)
        old_ids, new_ids = ({r[1] for r in read_table(landing / d, "patients") if r} for d in (a, b))
        assert new_ids - old_ids, b  # new patients
    superseded = sum(c["superseded"] for d in second for c in truth["expected_ingest"][d].values())
    assert superseded >= 2
