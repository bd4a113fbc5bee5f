"""Small hand-written drops for tests."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.contract import COLUMNS

PATIENT = {
    "site_id": "SITE01", "patient_id": "PABCDEFGH", "procedure": "MILD", "index_year": "2024",
    "age_at_index": "77", "sex": "F", "bmi": "27.5", "diabetes": "0", "smoker": "0", "prior_esi": "1",
    "symptom_months": "24", "levels_treated": "1", "asa_class": "2", "anesthesia": "LOCAL_SEDATION",
    "los_days": "0",
}


def write_table(path: Path, table: str, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS[table]))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS[table]})


def write_minimal_drop(folder: Path, patients: list[dict[str, str]] | None = None) -> Path:
    write_table(folder / "patients.csv", "patients", patients or [PATIENT])
    write_table(folder / "pro_responses.csv", "pro_responses", [])
    write_table(folder / "events.csv", "events", [])
    return folder
