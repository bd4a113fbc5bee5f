"""One hostile drop per data-contract rule, each with the outcome docs/ingest.md documents for it.

Every case writes its own drop folder (`build(landing, drop_id)`) with its own patients of site `HX`, so the
cases can share one landing (and one nightly run) without touching each other's keys. Row-level cases hold
good rows beside the bad one, so they also prove that a bad row never rejects its drop.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.ingest_helpers import csv_text, event, patient, pro, to_parquet, write_drop

SITE = "HX"


@dataclass(frozen=True)
class Case:
    name: str  # the contract rule the case exercises
    build: Callable[[Path, str], None]
    status: str  # 'ingested' | 'rejected'
    reason_code: str | None = None  # drop rejection code
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> reason_code -> rows
    accepted: dict[str, int] = field(default_factory=dict)  # file -> rows accepted
    top_coded: int = 0
    folder: str | None = None  # folder name when it is not the drop id (invalid_drop_id)

    def drop_id(self, index: int) -> str:
        return self.folder or f"2026-12-01_HX_{index:02d}_{self.name}"


def _pid(drop_id: str, n: int = 1) -> str:
    # A short pseudonymous id per drop ("Ca1b2c3P1"): no run of 7+ digits, nothing like an identifier.
    return f"C{hashlib.sha256(drop_id.encode()).hexdigest()[:6]}P{n}"


def _p(drop_id: str, n: int = 1, **changes: str) -> dict[str, str]:
    return patient(**{"site_id": SITE, "patient_id": _pid(drop_id, n), **changes})


def _r(drop_id: str, n: int = 1, **changes: str) -> dict[str, str]:
    return pro(**{"site_id": SITE, "patient_id": _pid(drop_id, n), **changes})


def _e(drop_id: str, n: int = 1, **changes: str) -> dict[str, str]:
    return event(**{"site_id": SITE, "patient_id": _pid(drop_id, n), **changes})


def _good(landing: Path, drop_id: str, **tables) -> Path:
    """A valid drop of one patient with one PRO row and one event, with `tables` overriding rows."""
    rows = {"patients": [_p(drop_id)], "pros": [_r(drop_id)], "events": [_e(drop_id)]}
    rows.update(tables)
    return write_drop(landing, drop_id, **rows)


def _rewrite(path: Path, data: bytes) -> None:
    path.write_bytes(data)


# --- drop-level faults: the whole drop is rejected with a reason code -----------------------------------


def wrong_delimiter(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    path = folder / "patients.csv"
    _rewrite(path, path.read_bytes().replace(b",", b";"))


def missing_file(landing: Path, drop_id: str) -> None:
    (_good(landing, drop_id) / "events.csv").unlink()


def missing_column(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    cols = [c for c in csv_text("patients", []).strip().split(",") if c != "sex"]
    (folder / "patients.csv").write_text(csv_text("patients", [_p(drop_id)], columns=cols))


def identifier_column(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    cols = csv_text("patients", []).strip().split(",") + ["patient_name"]
    row = {**_p(drop_id), "patient_name": "Zebulon Quackenbush"}
    (folder / "patients.csv").write_text(csv_text("patients", [row], columns=cols))


def bad_manifest_checksum(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    files["events.csv"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps({"contract_version": "1", "files": files}))


def bad_manifest_json(landing: Path, drop_id: str) -> None:
    (_good(landing, drop_id) / "manifest.json").write_text('{"contract_version": "1", "files": ')


def binary_garbage(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    _rewrite(folder / "pro_responses.csv", bytes(range(256)) * 4)


def empty_file(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    _rewrite(folder / "events.csv", b"")


def non_utf8_bytes(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    path = folder / "patients.csv"
    _rewrite(path, path.read_bytes().replace(b"LOCAL_SEDATION", b"LOCAL_S\xe9DATION"))


def invalid_drop_id(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id)


def ambiguous_format(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    to_parquet(folder, "events")
    (folder / "events.csv").write_text(csv_text("events", [_e(drop_id)]))


# --- accepted formats -------------------------------------------------------------------------------------


def header_only(landing: Path, drop_id: str) -> None:
    write_drop(landing, drop_id, patients=[_p(drop_id)], pros=[], events=[])


def bom(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    for name in ("patients.csv", "pro_responses.csv", "events.csv"):
        path = folder / name
        _rewrite(path, b"\xef\xbb\xbf" + path.read_bytes())


def crlf(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id)
    for table, rows in (("patients", [_p(drop_id)]), ("pro_responses", [_r(drop_id)]), ("events", [_e(drop_id)])):
        (folder / f"{table}.csv").write_text(csv_text(table, rows, newline="\r\n"), newline="")


def quoted_newlines(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, events=[_e(drop_id, detail='dural tear,\nrepaired "primarily"\r\nno sequelae')])


# --- row-level faults: the row is quarantined with its code, the drop is ingested -------------------------


def malformed_row(landing: Path, drop_id: str) -> None:
    folder = _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, 2)])
    path = folder / "patients.csv"
    _rewrite(path, path.read_bytes() + b"HX,EXTRA,MILD,2020,70,F,,,,,,1,,,,surplus,fields\n")


def wrong_type(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, 2, levels_treated="2.5")])


def out_of_range(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, 2, bmi="200")])


def missing_value(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, 2, procedure="")])


def unknown_code(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, 2, sex="X")])


def missing_unit(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, pros=[_r(drop_id), _r(drop_id, instrument="WALK_DISTANCE", value="400", unit="")])


def orphan(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, pros=[_r(drop_id), _r(drop_id, 9)], events=[_e(drop_id), _e(drop_id, 9)])


def conflicting_duplicate(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, 2, bmi="30"), _p(drop_id, 2, bmi="31")])


def day_out_of_range(landing: Path, drop_id: str) -> None:
    _good(
        landing,
        drop_id,
        pros=[_r(drop_id), _r(drop_id, days_from_index="4000")],
        events=[_e(drop_id), _e(drop_id, days_from_index="-5")],
    )


def year_out_of_range(landing: Path, drop_id: str) -> None:
    rows = [_p(drop_id), _p(drop_id, 2, index_year="1980"), _p(drop_id, 3, index_year="2099")]
    _good(landing, drop_id, patients=rows)


def age_over_90(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id, age_at_index="97")])


def identifier_in_text(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, events=[_e(drop_id), _e(drop_id, days_from_index="30", detail="call 555-201-4567")])


def invalid_id(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, patients=[_p(drop_id), _p(drop_id, patient_id="P 2")])


def text_too_long(landing: Path, drop_id: str) -> None:
    _good(landing, drop_id, events=[_e(drop_id), _e(drop_id, days_from_index="31", detail="x" * 201)])


def _ok(pat: int = 1, pros: int = 1, events: int = 1) -> dict[str, int]:
    return {"patients.csv": pat, "pro_responses.csv": pros, "events.csv": events}


def _q(table: str, reason: str, rows: int = 1) -> dict[str, dict[str, int]]:
    return {f"{table}.csv": {reason: rows}}


CASES: list[Case] = [
    Case("wrong_delimiter", wrong_delimiter, "rejected", "missing_column"),
    Case("missing_file", missing_file, "rejected", "missing_file"),
    Case("missing_column", missing_column, "rejected", "missing_column"),
    Case("identifier_column", identifier_column, "rejected", "identifier_column"),
    Case("manifest_checksum", bad_manifest_checksum, "rejected", "checksum_mismatch"),
    Case("manifest_not_json", bad_manifest_json, "rejected", "bad_manifest"),
    Case("binary_garbage", binary_garbage, "rejected", "unreadable_file"),
    Case("empty_file", empty_file, "rejected", "unreadable_file"),
    Case("non_utf8", non_utf8_bytes, "rejected", "unreadable_file"),
    Case("invalid_drop_id", invalid_drop_id, "rejected", "invalid_drop_id", folder="2026-12-01 HX bad folder!"),
    Case("ambiguous_format", ambiguous_format, "rejected", "ambiguous_format"),
    Case("header_only", header_only, "ingested", accepted=_ok(1, 0, 0)),
    Case("bom", bom, "ingested", accepted=_ok()),
    Case("crlf", crlf, "ingested", accepted=_ok()),
    Case("quoted_newlines", quoted_newlines, "ingested", accepted=_ok()),
    Case("malformed_row", malformed_row, "ingested", accepted=_ok(2), quarantined=_q("patients", "malformed_row")),
    Case("wrong_type", wrong_type, "ingested", accepted=_ok(), quarantined=_q("patients", "invalid_type")),
    Case("out_of_range", out_of_range, "ingested", accepted=_ok(), quarantined=_q("patients", "out_of_range")),
    Case("missing_value", missing_value, "ingested", accepted=_ok(), quarantined=_q("patients", "missing_value")),
    Case("unknown_code", unknown_code, "ingested", accepted=_ok(), quarantined=_q("patients", "unknown_code")),
    Case("missing_unit", missing_unit, "ingested", accepted=_ok(), quarantined=_q("pro_responses", "invalid_unit")),
    Case(
        "orphan", orphan, "ingested", accepted=_ok(),
        quarantined={"pro_responses.csv": {"orphan": 1}, "events.csv": {"orphan": 1}},
    ),
    Case(
        "conflicting_duplicate", conflicting_duplicate, "ingested", accepted=_ok(),
        quarantined={"patients.csv": {"conflicting_duplicate": 2}},
    ),
    Case(
        "day_out_of_range", day_out_of_range, "ingested", accepted=_ok(),
        quarantined={"pro_responses.csv": {"out_of_range": 1}, "events.csv": {"out_of_range": 1}},
    ),
    Case(
        "year_out_of_range", year_out_of_range, "ingested", accepted=_ok(),
        quarantined={"patients.csv": {"out_of_range": 2}},
    ),
    Case("age_over_90", age_over_90, "ingested", accepted=_ok(), top_coded=1),
    Case(
        "identifier_in_text", identifier_in_text, "ingested", accepted=_ok(),
        quarantined={"events.csv": {"identifier_in_text": 1}},
    ),
    Case("invalid_id", invalid_id, "ingested", accepted=_ok(), quarantined=_q("patients", "invalid_id")),
    Case("text_too_long", text_too_long, "ingested", accepted=_ok(), quarantined=_q("events", "text_too_long")),
]


def build_corpus(landing: Path) -> dict[str, Case]:
    """Every case as a drop under `landing`; returns drop_id -> case."""
    built = {}
    for index, case in enumerate(CASES, start=1):
        drop_id = case.drop_id(index)
        case.build(landing, drop_id)
        built[drop_id] = case
    return built
