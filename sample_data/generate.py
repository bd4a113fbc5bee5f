"""Synthetic, de-identified landing drops that follow the data contract, with a truth file.

    python -m sample_data.generate --patients 2000 --seed 20261123 --landing sample_data/landing \\
        --truth sample_data/truth.json [--deliveries 2] [--as-of 2026-11-15] [--parquet-sites SITE05] \\
        [--missing mnar|mcar] [--no-defects] [--overwrite]

See docs/sample-data.md for the model, its calibration, the planted defects and the truth file.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from pipeline import contract
from pipeline.study import Study, load_study
from sample_data import defects as D
from sample_data import model as M
from sample_data.cohort import Cohort, make_cohort
from sample_data.events import make_events
from sample_data.followup import make_follow_up
from sample_data.plan import add_repeats_and_corrections, expected_counts, make_drops, place_extras, top_coded
from sample_data.pros import MECHANISMS, early_check_patients, make_pros
from sample_data.tables import deliver_patients, events_frame, patients_frame, pro_frame, sort_rows
from sample_data.truth import compute_truth
from sample_data.truth_pro import pro_truth
from sample_data.writer import append_lines, write_manifest, write_table

DEFAULT_AS_OF = date(2026, 11, 15)
GENERATED_DROP = re.compile(r"^\d{4}-\d{2}-\d{2}_SITE\d\d$")


@dataclass
class Options:
    patients: int
    seed: int
    landing: Path
    truth: Path
    deliveries: int = 2
    as_of: date = DEFAULT_AS_OF
    parquet_sites: set[str] = field(default_factory=set)
    defects: bool = True
    overwrite: bool = False
    missing: str = "mnar"  # visit missingness: "mnar" (default) or "mcar"; see pros.make_pros


def _log(start: float, message: str) -> None:
    print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr, flush=True)


def generate(opt: Options) -> dict:
    """Write the drops under opt.landing and the truth file; returns the truth dictionary."""
    t0 = time.perf_counter()
    if opt.patients < 100 or opt.patients >= 1 << 24:
        raise ValueError("--patients must be between 100 and 16,777,215")
    if unknown := opt.parquet_sites - set(M.SITES):
        raise ValueError(f"unknown --parquet-sites: {sorted(unknown)}")
    study = load_study()
    if tuple(v.name for v in study.visits[1:]) != M.VISITS:
        raise ValueError("the study's visits differ from the visits the generator is calibrated for")
    if opt.missing not in MECHANISMS:
        raise ValueError(f"--missing must be one of {MECHANISMS}")
    rng = np.random.default_rng(opt.seed)
    # A separate stream for the MNAR attendance draws: the main stream, hence every generated value, is
    # the same under both mechanisms.
    attendance_rng = np.random.default_rng(np.random.SeedSequence(opt.seed, spawn_key=(M.ATTENDANCE_STREAM,)))
    cohort = make_cohort(rng, opt.patients, opt.as_of)
    fu = make_follow_up(rng, cohort, opt.as_of, opt.deliveries, protocol_end=study.visits[-1].end)
    pros = make_pros(rng, cohort, fu, study, opt.missing, attendance_rng)
    pro = pros.cols
    ev = make_events(cohort, fu)
    delivered = deliver_patients(rng, cohort)
    _log(t0, f"generated {cohort.n:,} patients, {int(pro['delivered'].sum()):,} PRO rows, {ev['pid'].size:,} events")
    order = sort_rows(pro, cohort, "instrument")
    pro = {c: a[order] for c, a in pro.items()}
    order = sort_rows(ev, cohort, "event")
    ev = {c: a[order] for c, a in ev.items()}
    del order
    drops = make_drops(cohort, fu, pro, ev, opt.parquet_sites)
    add_repeats_and_corrections(rng, drops, cohort, delivered, pro, ev)
    if opt.defects:
        D.plant(rng, drops, cohort, fu, early_check_patients(pro), cohort.id_keys)
    truth = compute_truth(cohort)
    truth["pro_eligible"] = pro_truth(cohort, fu, pros, study, cut_year=opt.as_of.year)
    del pros
    _log(t0, "planned drops and computed the truth")

    _prepare_landing(opt.landing, {d.drop_id for d in drops}, opt.overwrite)
    expected, quarantine = {}, {}
    con = duckdb.connect()
    site_ids = {s: list(cohort.ids[cohort.site == s]) for s in range(len(M.SITES))}
    for drop in drops:
        folder = opt.landing / drop.drop_id
        folder.mkdir(parents=True)
        files, lines = {}, {}
        for table in contract.TABLES:
            ids = site_ids[drop.site]
            if table == "patients":
                frame = patients_frame(cohort, delivered, drop.patients, ids)
            elif table == "pro_responses":
                frame = pro_frame(cohort, pro, drop.written_rows(table), ids)
            else:
                frame = events_frame(cohort, ev, drop.rows[table], ids)
            placed, positions, records = place_extras(rng, drop, table)
            path = folder / drop.file(table)
            write_table(con, path, table, M.SITES[drop.site], frame, placed, positions, drop.parquet)
            if table == "pro_responses" and drop.malformed:
                append_lines(path, drop.malformed)
            files[drop.file(table)], found = expected_counts(drop, table, placed, records)
            if found:
                lines[drop.file(table)] = found
        write_manifest(folder, list(files))
        files[drop.file("patients")]["top_coded_ages"] = top_coded(drop, delivered)
        expected[drop.drop_id] = files
        if lines:
            quarantine[drop.drop_id] = lines
        _log(t0, f"wrote {drop.drop_id}")
    con.close()

    result = {
        "generator": "sample_data.generate",
        "contract_version": contract.CONTRACT_VERSION,
        "seed": opt.seed,
        "as_of": opt.as_of.isoformat(),
        "options": {"patients": opt.patients, "deliveries": opt.deliveries, "defects": opt.defects,
                    "parquet_sites": sorted(opt.parquet_sites), "missing": opt.missing},
        "deliveries": [{"delivery": k + 1, "cut": c.isoformat(),
                        "drops": [d.drop_id for d in drops if d.k == k]} for k, c in enumerate(fu.cuts)],
        "sizes": _sizes(cohort, expected),
        "parameters": _parameters(study),
        "truth": truth,
        "expected_ingest": expected,
        "expected_quarantine": quarantine,
    }
    opt.truth.parent.mkdir(parents=True, exist_ok=True)
    opt.truth.write_text(_dumps(result), encoding="utf-8")
    _log(t0, f"done: {len(drops)} drops in {opt.landing}, truth in {opt.truth}")
    return result


def _prepare_landing(landing: Path, drop_ids: set[str], overwrite: bool) -> None:
    """Refuse to mix with other drops (expected_ingest would not hold), unless told to remove them."""
    landing.mkdir(parents=True, exist_ok=True)
    for entry in sorted(landing.iterdir()):
        if entry.name in drop_ids or (overwrite and entry.is_dir() and GENERATED_DROP.match(entry.name)):
            shutil.rmtree(entry)
        elif entry.is_dir():
            raise FileExistsError(f"{entry} is not a drop of this run; remove it or pass --overwrite")


def _sizes(cohort: Cohort, expected: dict) -> dict:
    procedures = [*M.ARMS, M.OTHER_PROCEDURE]
    rows: dict[str, dict[str, int]] = {}
    for drop in expected.values():
        for name, counts in drop.items():
            table = rows.setdefault(name.split(".")[0], {"rows_read": 0, "accepted": 0, "duplicates": 0,
                                                          "quarantined": 0})
            table["rows_read"] += counts["rows_read"]
            table["accepted"] += counts["accepted"]
            table["duplicates"] += counts["duplicates"]
            table["quarantined"] += sum(counts["quarantined"].values())
    return {
        "patients": int(cohort.n),
        "patients_by_procedure": {p: int((cohort.arm == i).sum()) for i, p in enumerate(procedures)},
        "patients_by_site": {s: int((cohort.site == i).sum()) for i, s in enumerate(M.SITES)},
        "rows": rows,
    }


def _parameters(study: Study) -> dict:
    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, date) else value

    params = {name: plain(getattr(M, name)) for name in dir(M) if name.isupper()}
    params["VISIT_WINDOWS"] = [[v.name, v.start, v.end, v.target] for v in study.visits]
    params["DEFECT_RATE"] = D.RATE
    return params


def _dumps(data: dict) -> str:
    """Indented JSON with short lists of scalars kept on one line (expected_quarantine stays readable)."""
    text = json.dumps(data, indent=1)
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + ", ".join(
        part.strip() for part in m.group(1).split(",\n")) + "]", text) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sample_data.generate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--deliveries", type=int, default=2)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--parquet-sites", nargs="*", default=[], help="sites that deliver Parquet")
    parser.add_argument("--missing", choices=MECHANISMS, default="mnar",
                        help="visit missingness: mnar (attendance depends on the last ODI and the arm; "
                             "default) or mcar (completely at random)")
    parser.add_argument("--no-defects", action="store_true", help="plant no defective rows")
    parser.add_argument("--overwrite", action="store_true",
                        help="remove earlier generated drops in --landing")
    a = parser.parse_args(argv)
    sites = {s for item in a.parquet_sites for s in item.split(",") if s}
    if a.deliveries < 1:
        parser.error("--deliveries must be at least 1")
    generate(Options(patients=a.patients, seed=a.seed, landing=a.landing, truth=a.truth,
                     deliveries=a.deliveries, as_of=a.as_of, parquet_sites=sites, defects=not a.no_defects,
                     overwrite=a.overwrite, missing=a.missing))


if __name__ == "__main__":
    main()
