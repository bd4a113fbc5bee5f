"""Landings of many shapes, independent of sample_data/generate.py (issue 12: "not with our own generator").

A landing is described in two steps. `Shape` holds what varies between real senders: the style of the
pseudonymous ids, the site names, how many sites a drop holds (one per folder, or a network drop
`<date>_<network>` holding several), how many drops a site sends, which arms and other procedure codes occur,
which instruments and event types a site records, site sizes, CSV or Parquet per table, BOM and CRLF, column
order and erasures in a later drop. `build(shape)` turns a shape into `Landing`: rows per drop and table, every
value within the contract (`pipeline.contract`, the contract as data), and its own record of what it generated
(rows per file, patients per site and arm after erasures, every patient id). `write(landing, root)` writes the
drop folders, each with a valid `manifest.json` written last, so that a drop is complete when it appears.

`shapes()` is the hypothesis strategy over shapes; row values come from a seeded `random.Random` (the seed is
part of the shape), so a failing example shrinks on its shape and replays exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from hypothesis import strategies as st

from pipeline.contract import (
    ANESTHESIA,
    COLUMNS,
    CONTRACT_VERSION,
    EVENTS,
    INSTRUMENTS,
    PATIENT_RANGES,
    SEXES,
    UNIT_FACTORS,
)

TREATMENT, COMPARATOR = "MILD", "LAMINECTOMY"
ARMS = (TREATMENT, COMPARATOR)
OTHER_PROCEDURES = ("FUSION", "IPD_SPACER", "ENDOSCOPIC_DECOMPRESSION", "X2")
# Arms present in a landing: both, one of them, or neither (only other procedure codes).
ARM_MODES = {
    "both": (TREATMENT, COMPARATOR),
    "both_and_other": (TREATMENT, COMPARATOR, "FUSION"),
    "mild_only": (TREATMENT,),
    "laminectomy_only": (COMPARATOR,),
    "mild_and_other": (TREATMENT, "IPD_SPACER"),
    "none": ("FUSION", "ENDOSCOPIC_DECOMPRESSION"),
}

# Pseudonymous id styles a site may use; every one matches the contract's key pattern, and none has the whole
# shape of an SSN, a phone number or a date (the only key shapes the contract quarantines).
ID_STYLES = {
    "digits5": lambda site, n: f"{n:05d}",  # 00042: a 5-digit run (the ZIP pattern)
    "digits7": lambda site, n: f"{n:07d}",  # 0012345: 7 digits (the MRN pattern)
    "digits10": lambda site, n: f"{n:010d}",  # 0012345678: 10 digits (the MRN pattern)
    "digits_plain": lambda site, n: str(100000 + n),  # 100234
    "prefixed5": lambda site, n: f"K{site:02d}-{n:05d}",  # K07-00012
    "clinic5": lambda site, n: f"clinic-{n:05d}",  # clinic-00042
    "dotted": lambda site, n: f"p.{n:06d}",  # p.000123
    "dashed_hex": lambda site, n: f"SITE{site:02d}-{n:04x}",  # SITE01-7f3a
    "long64": lambda site, n: f"pt-{n:061d}",  # 64 characters, 61 of them digits
}
NUMERIC_ID_STYLES = ("digits5", "digits7", "digits10", "digits_plain")
SITE_NAMES = ("7", "clinic.north", "H-12", "SITE01", "north_clinic", "0042", "registry-east.spine.clinic-0001")
NETWORK_NAMES = ("northnet", "registry.east", "NET-7")
FORMATS = ("csv", "parquet")

# Visit targets (days) a follow-up assessment is placed near; baselines fall in -90..0.
FOLLOW_UP_DAYS = (42, 91, 182, 365, 730, 1095, 1461, 1826)
# Realistic upper values per unit of the two unit-bearing instruments (well within the contract maxima).
UNIT_RANGES = {"m": 2000, "ft": 6000, "km": 2, "mi": 1.2, "min": 120, "h": 2}
COMPLICATION_DETAILS = ("durotomy", "wound infection", "hematoma", "nerve root irritation", "")
INTEGER_COLUMNS = {c for c, (_, _, integer) in PATIENT_RANGES.items() if integer} | {"days_from_index"}
FLOAT_COLUMNS = {c for c, (_, _, integer) in PATIENT_RANGES.items() if not integer} | {"value"}
TABLES = ("patients", "pro_responses", "events", "erasures")
LAST_YEAR = dt.date.today().year - 5  # index years end here, so five years of follow-up lie in the past


@dataclass(frozen=True)
class Shape:
    """What varies between senders. `seed` drives the row values."""

    id_style: str = "dotted"  # a key of ID_STYLES, "mixed" (a style per patient) or "mixed_numeric"
    sites: tuple[str, ...] = ("SITE01",)
    site_sizes: tuple[int, ...] = (20,)
    arms: str = "both"  # a key of ARM_MODES
    instruments: tuple[str, ...] = tuple(INSTRUMENTS)
    event_types: tuple[str, ...] = EVENTS
    deliveries: int = 1  # drops per site (at most), besides the erasure drop
    network: tuple[bool, ...] = (False,)  # per delivery (and the erasure delivery): one network folder?
    network_name: str = "northnet"
    formats: str = "csv"  # "csv", "parquet" or "mixed" (per table)
    bom: bool = False
    crlf: bool = False
    shuffle_columns: bool = False
    erasures: int = 0
    shared_numbers: bool = False  # the same patient numbers at every site (keys are site + patient)
    seed: int = 0


@dataclass
class Drop:
    drop_id: str
    rows: dict[str, list[dict]]  # table -> rows (erasures only when the drop has erasures)
    formats: dict[str, str]
    columns: dict[str, list[str]]
    bom: bool = False
    crlf: bool = False


@dataclass
class Landing:
    shape: Shape
    drops: list[Drop]
    procedure: dict[tuple[str, str], str]  # (site, patient) -> procedure, every patient generated
    erased: set[tuple[str, str]] = field(default_factory=set)

    # The record of what was generated, for invariants.
    def current(self) -> dict[tuple[str, str], str]:
        return {k: v for k, v in self.procedure.items() if k not in self.erased}

    def per_arm(self) -> dict[str, int]:
        c = Counter(p for p in self.current().values() if p in ARMS)
        return {arm: c.get(arm, 0) for arm in ARMS}

    def per_site_group(self) -> dict[tuple[str, str], int]:
        """(site, arm or "other") -> patients after erasures."""
        return dict(Counter((s, p if p in ARMS else "other") for (s, _), p in self.current().items()))

    def per_site_analysed(self) -> dict[tuple[str, str], int]:
        return {k: n for k, n in self.per_site_group().items() if k[1] in ARMS}

    def patient_rows_per_site(self) -> dict[str, int]:
        return dict(Counter(r["site_id"] for d in self.drops for r in d.rows["patients"]))

    def rows_per_file(self) -> dict[tuple[str, str], int]:
        """(drop_id, file name) -> rows written."""
        return {(d.drop_id, f"{t}.{d.formats[t]}"): len(rows) for d in self.drops for t, rows in d.rows.items()}

    def site_ids(self) -> set[str]:
        return {s for s, _ in self.procedure}

    def patient_ids(self) -> set[str]:
        return {p for _, p in self.procedure}

    def describe(self) -> str:
        return (f"{len(self.drops)} drops {[d.drop_id for d in self.drops]}, sites {sorted(self.site_ids())}, "
                f"patients per arm {self.per_arm()}, erased {len(self.erased)}, shape {self.shape}")


# --------------------------------------------------------------------------------------------------- strategy

@st.composite
def shapes(draw, *, max_sites: int = 4, max_patients: int = 120) -> Shape:
    n_sites = draw(st.integers(1, max_sites))
    sites = tuple(draw(st.lists(st.sampled_from(SITE_NAMES), min_size=n_sites, max_size=n_sites, unique=True)))
    per_site = max(1, max_patients // n_sites)
    sizes = tuple(draw(st.one_of(st.integers(1, 10), st.integers(11, min(per_site, 40)) if per_site > 11
                                 else st.integers(1, per_site))) for _ in sites)
    deliveries = draw(st.integers(1, 3))
    instruments = draw(st.one_of(st.just(tuple(INSTRUMENTS)),
                                 st.lists(st.sampled_from(tuple(INSTRUMENTS)), unique=True, max_size=5).map(tuple)))
    event_types = draw(st.one_of(st.just(EVENTS), st.lists(st.sampled_from(EVENTS), unique=True, max_size=4)
                                 .map(tuple)))
    return Shape(
        id_style=draw(st.sampled_from((*ID_STYLES, "mixed", "mixed_numeric"))),
        sites=sites,
        site_sizes=sizes,
        arms=draw(st.sampled_from(tuple(ARM_MODES))),
        instruments=instruments,
        event_types=event_types,
        deliveries=deliveries,
        network=tuple(draw(st.booleans()) for _ in range(deliveries + 1)),
        network_name=draw(st.sampled_from(NETWORK_NAMES)),
        formats=draw(st.sampled_from(("csv", "parquet", "mixed"))),
        bom=draw(st.booleans()),
        crlf=draw(st.booleans()),
        shuffle_columns=draw(st.booleans()),
        erasures=draw(st.integers(0, 3)),
        shared_numbers=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


# ------------------------------------------------------------------------------------------------------ build

def _patient_row(rng: random.Random, site: str, pid: str, procedure: str) -> dict:
    def maybe(value):
        return None if rng.random() < 0.15 else value

    return {
        "site_id": site, "patient_id": pid, "procedure": procedure,
        "index_year": rng.randint(max(int(PATIENT_RANGES["index_year"][0]), 2000), LAST_YEAR),
        "age_at_index": rng.randint(int(PATIENT_RANGES["age_at_index"][0]), int(PATIENT_RANGES["age_at_index"][1])),
        "sex": rng.choice(SEXES),
        "bmi": maybe(round(rng.uniform(18, 45), 1)),
        "diabetes": maybe(rng.randint(0, 1)),
        "smoker": maybe(rng.randint(0, 1)),
        "prior_esi": maybe(rng.randint(0, 1)),
        "symptom_months": maybe(round(rng.uniform(0, 240), 1)),
        "levels_treated": rng.randint(1, 5),
        "asa_class": maybe(rng.randint(1, 4)),
        "anesthesia": maybe(rng.choice(ANESTHESIA)),
        "los_days": maybe(rng.choice((0, 0, 0, 1, 2, 3, 5))),
    }


def _value(rng: random.Random, code: str) -> tuple[float | int, str | None]:
    inst = INSTRUMENTS[code]
    if inst.units:
        unit = rng.choice(inst.units)
        high = min(UNIT_RANGES[unit], inst.high / UNIT_FACTORS[unit])
        return round(rng.uniform(0, high), 2), unit
    if inst.integer:
        return rng.randint(int(inst.low), int(inst.high)), None
    return round(rng.uniform(inst.low, inst.high), 1), None


def _pro_rows(rng: random.Random, shape: Shape, site: str, pid: str) -> list[dict]:
    rows = []
    for code in shape.instruments:
        if rng.random() < 0.2:
            continue  # this patient never answered it
        inst = INSTRUMENTS[code]
        days = [] if inst.post_only else [rng.randint(-90, 0)]
        for target in FOLLOW_UP_DAYS:
            if rng.random() < 0.7:
                days.append(target + rng.randint(-10, 10))
        for day in sorted(set(days)):
            value, unit = _value(rng, code)
            rows.append({"site_id": site, "patient_id": pid, "days_from_index": day, "instrument": code,
                         "value": value, "unit": unit})
    return rows


def _event_rows(rng: random.Random, shape: Shape, site: str, pid: str, last_pro_day: int) -> list[dict]:
    kinds = [e for e in shape.event_types if e not in ("DEATH", "WITHDRAWN", "LAST_CONTACT")]
    rows = []
    for kind in kinds:
        if rng.random() < 0.35:
            day = rng.randint(1, 90) if kind in ("COMPLICATION", "RETURN_TO_ACTIVITY") else rng.randint(30, 1800)
            detail = rng.choice(COMPLICATION_DETAILS) if kind == "COMPLICATION" else None
            rows.append({"site_id": site, "patient_id": pid, "days_from_index": day, "event": kind,
                         "detail": detail or None})
    end = max([last_pro_day, *(r["days_from_index"] for r in rows), 0])
    terminal = [e for e in ("DEATH", "WITHDRAWN") if e in shape.event_types]
    if terminal and rng.random() < 0.15:
        rows.append({"site_id": site, "patient_id": pid, "days_from_index": min(3650, end + rng.randint(1, 200)),
                     "event": rng.choice(terminal), "detail": None})
    elif "LAST_CONTACT" in shape.event_types and rng.random() < 0.8:
        rows.append({"site_id": site, "patient_id": pid, "days_from_index": min(3650, end + rng.randint(0, 100)),
                     "event": "LAST_CONTACT", "detail": None})
    return rows


def build(shape: Shape) -> Landing:
    """Rows per drop for `shape`, and the record of what was generated."""
    rng = random.Random(shape.seed)
    procedures = ARM_MODES[shape.arms]
    n_total = sum(shape.site_sizes)
    # Every procedure of the mode occurs when there are enough patients: cycle, then shuffle.
    assigned = [procedures[i % len(procedures)] for i in range(n_total)]
    rng.shuffle(assigned)
    styles = list(NUMERIC_ID_STYLES) if shape.id_style == "mixed_numeric" else list(ID_STYLES)
    dates = [dt.date(2026, 1, 15) + dt.timedelta(days=30 * k) for k in range(shape.deliveries + 1)]

    # Which deliveries each site takes part in: always the first, then at random.
    takes_part = {s: [0] + [k for k in range(1, shape.deliveries) if rng.random() < 0.6] for s in shape.sites}
    # rows[k][site][table]
    rows: list[dict[str, dict[str, list[dict]]]] = [
        {s: {t: [] for t in TABLES} for s in shape.sites} for _ in range(shape.deliveries + 1)]
    procedure: dict[tuple[str, str], str] = {}
    shared = rng.sample(range(1, 99_999), max(shape.site_sizes))
    i = 0
    for site_index, (site, size) in enumerate(zip(shape.sites, shape.site_sizes, strict=True)):
        numbers = shared[:size] if shape.shared_numbers else rng.sample(range(1, 99_999), size)
        for n in numbers:
            style = rng.choice(styles) if shape.id_style.startswith("mixed") else shape.id_style
            pid = ID_STYLES[style](site_index + 1, n)
            proc = assigned[i]
            i += 1
            procedure[(site, pid)] = proc
            k = rng.choice(takes_part[site])
            rows[k][site]["patients"].append(_patient_row(rng, site, pid, proc))
            pro = _pro_rows(rng, shape, site, pid)
            last = max([r["days_from_index"] for r in pro], default=0)
            later = [j for j in takes_part[site] if j >= k]
            for r in pro:  # follow-up may come in a later drop of the same site
                rows[rng.choice(later) if r["days_from_index"] > 0 else k][site]["pro_responses"].append(r)
            for r in _event_rows(rng, shape, site, pid, last):
                rows[rng.choice(later)][site]["events"].append(r)
    erased = set(rng.sample(sorted(procedure), min(shape.erasures, len(procedure))))
    for site, pid in sorted(erased):
        rows[shape.deliveries][site]["erasures"].append({"site_id": site, "patient_id": pid})

    drops: list[Drop] = []
    for k, by_site in enumerate(rows):
        date = dates[k].isoformat()
        if k == shape.deliveries:
            active = [s for s in shape.sites if by_site[s]["erasures"]]
        else:
            active = [s for s in shape.sites if k in takes_part[s]]
        if not active:
            continue
        network = shape.network[k] if k < len(shape.network) else False
        groups = [(f"{date}_{shape.network_name}", active)] if network else [(f"{date}_{s}", [s]) for s in active]
        for drop_id, members in groups:
            tables = {t: [r for s in members for r in by_site[s][t]] for t in TABLES}
            if not tables["erasures"]:
                del tables["erasures"]
            for t in tables:
                rng.shuffle(tables[t])  # sites interleaved in a network drop
            drops.append(_drop(rng, shape, drop_id, tables))
    return Landing(shape=shape, drops=drops, procedure=procedure, erased=erased)


def _drop(rng: random.Random, shape: Shape, drop_id: str, tables: dict[str, list[dict]]) -> Drop:
    formats, columns = {}, {}
    for t in tables:
        formats[t] = rng.choice(FORMATS) if shape.formats == "mixed" else shape.formats
        cols = list(COLUMNS[t])
        if shape.shuffle_columns:
            rng.shuffle(cols)
        columns[t] = cols
    return Drop(drop_id=drop_id, rows=tables, formats=formats, columns=columns, bom=shape.bom, crlf=shape.crlf)


# ------------------------------------------------------------------------------------------------------ write

def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _sql_type(column: str) -> str:
    if column in INTEGER_COLUMNS:
        return "BIGINT"
    if column in FLOAT_COLUMNS:
        return "DOUBLE"
    return "VARCHAR"


def write_csv(path: Path, columns: list[str], rows: list[dict], *, bom: bool, crlf: bool) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_csv_text(r[c]) for c in columns])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))


def write_parquet(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Typed Parquet, as a registry's export would write it (integers BIGINT, numbers DOUBLE, codes VARCHAR)."""
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (" + ", ".join(f'"{c}" {_sql_type(c)}' for c in columns) + ")")
        if rows:
            con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})",
                            [[r[c] for c in columns] for r in rows])
        con.execute(f"COPY t TO '{path}' (FORMAT parquet)")


def write_drop(drop: Drop, landing: Path) -> Path:
    folder = landing / drop.drop_id
    folder.mkdir(parents=True)
    digests = {}
    for t, rows in drop.rows.items():
        name = f"{t}.{drop.formats[t]}"
        path = folder / name
        if drop.formats[t] == "csv":
            write_csv(path, drop.columns[t], rows, bom=drop.bom, crlf=drop.crlf)
        else:
            write_parquet(path, drop.columns[t], rows)
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    # The manifest last: a drop is complete once it holds one (data contract, revision 2).
    manifest = {"contract_version": CONTRACT_VERSION, "files": digests}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def write(landing: Landing, root: Path) -> Path:
    """Every drop of `landing` as a folder under `root` (created)."""
    root.mkdir(parents=True, exist_ok=True)
    for drop in landing.drops:
        write_drop(drop, root)
    return root


# ------------------------------------------------------------------------------------------ named landings

def all_numeric_ids(seed: int = 1) -> Landing:
    """Digits-only sites and patient ids (5, 7 and 10 digits and plain numbers, mixed), both arms, two drops."""
    return build(Shape(id_style="mixed_numeric", sites=("7", "0042"), site_sizes=(30, 26), deliveries=2,
                       network=(False, False, False), seed=seed))


def network_drop(seed: int = 2) -> Landing:
    """One network drop `<date>_northnet` holding the rows of four sites, both arms."""
    return build(Shape(id_style="clinic5", sites=("7", "clinic.north", "H-12", "SITE01"),
                       site_sizes=(14, 12, 16, 13), deliveries=1, network=(True, True), network_name="northnet",
                       formats="mixed", shuffle_columns=True, seed=seed))


def mild_only_clinic(seed: int = 3) -> Landing:
    """The seed page's clinic: one site, only MILD, 60 patients, every instrument and event type."""
    return build(Shape(id_style="prefixed5", sites=("clinic.north",), site_sizes=(60,), arms="mild_only",
                       deliveries=2, network=(False, False, False), seed=seed))


def all_quarantined(seed: int = 4) -> Landing:
    """Every patient row breaks the contract (half an unknown lower-case procedure, half a year of 1980), so
    every PRO and event row is an orphan. The record keeps the rows; nothing is expected to be accepted."""
    landing = build(Shape(id_style="dotted", sites=("SITE01", "H-12"), site_sizes=(15, 12), seed=seed))
    for d in landing.drops:
        for i, r in enumerate(d.rows["patients"]):
            if i % 2:
                r["procedure"] = r["procedure"].lower()
            else:
                r["index_year"] = 1980
            d.formats["patients"] = "csv"  # a lower-case code and 1980 both fit a typed Parquet column too
    return landing
