"""Delivered columns: what sites send for each patient, and typed pandas frames of the contract tables.

String columns are pandas Categoricals built from integer codes, so tens of millions of rows never become
Python strings; DuckDB reads them directly when writing the files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import contract
from sample_data import model as M
from sample_data.cohort import Cohort
from sample_data.events import DETAILS, EVENT_CODES
from sample_data.followup import arm_param, same_day_prob
from sample_data.pros import INSTRUMENTS, UNITS

PROCEDURES = [*M.ARMS, M.OTHER_PROCEDURE]  # index = cohort.arm
SEXES = list(contract.SEXES)
ANESTHESIA = list(contract.ANESTHESIA)
INT_COLUMNS = {c for c, (_, _, integer) in contract.PATIENT_RANGES.items() if integer} | {"days_from_index"}
FLOAT_COLUMNS = {c for c, (_, _, integer) in contract.PATIENT_RANGES.items() if not integer} | {"value"}
# Vocabulary of each string column that is stored as codes (patient_id uses the site's ids).
VOCAB: dict[str, list] = {"procedure": PROCEDURES, "sex": SEXES, "anesthesia": ANESTHESIA,
                          "instrument": INSTRUMENTS, "unit": UNITS[1:], "event": EVENT_CODES,
                          "detail": DETAILS[1:]}


def kind(column: str) -> str:
    if column in INT_COLUMNS:
        return "int"
    return "float" if column in FLOAT_COLUMNS else "str"


def deliver_patients(rng: np.random.Generator, cohort: Cohort) -> dict[str, np.ndarray]:
    """patients.csv columns for every patient (codes for strings, NaN = empty), including care received
    (anesthesia, length of stay) and values missing at random."""
    n, x = cohort.n, cohort.x
    cols: dict[str, np.ndarray] = {
        "procedure": cohort.arm.astype(np.int16),
        "index_year": cohort.index_year.astype(float),
        "age_at_index": x["age"].copy(),
        "sex": np.where(x["sex_unknown"] == 1, 2, np.where(x["female"] == 1, 0, 1)).astype(np.int16),
    }
    for name in ("bmi", "diabetes", "smoker", "prior_esi", "symptom_months", "levels_treated", "asa_class"):
        cols[name] = x[name].copy()
    local = rng.random(n) < arm_param(cohort, M.ANESTHESIA_LOCAL)
    cols["anesthesia"] = np.where(local, 0, 1).astype(np.int16)
    stay = np.zeros(n)
    for arm_code, arm in enumerate(M.ARMS):
        sel = np.where(cohort.arm == 2, 0, cohort.arm) == arm_code
        p = np.asarray(M.LOS_P[arm])
        stay[sel] = 1 + rng.choice(p.size, size=int(sel.sum()), p=p / p.sum())
    cols["los_days"] = np.where(rng.random(n) < same_day_prob(cohort), 0.0, stay)
    for name, share in M.MISSING.items():
        gone = rng.random(n) < share
        if name == "anesthesia":
            cols[name] = np.where(gone, -1, cols[name]).astype(np.int16)
        else:
            cols[name] = np.where(gone, np.nan, cols[name])
    return cols


def _categorical(codes: np.ndarray, vocab: list) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(vocab, dtype=object))


def patients_frame(cohort: Cohort, delivered: dict[str, np.ndarray], pids: np.ndarray,
                   site_ids: list[str]) -> pd.DataFrame:
    data: dict[str, object] = {"patient_id": _categorical(cohort.local[pids], site_ids)}
    for column in contract.COLUMNS["patients"][2:]:
        values = delivered[column][pids]
        data[column] = _categorical(values, VOCAB[column]) if column in VOCAB else values
    return pd.DataFrame(data)


def pro_frame(cohort: Cohort, pro: dict[str, np.ndarray], rows: slice, site_ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": _categorical(cohort.local[pro["pid"][rows]], site_ids),
        "days_from_index": pro["day"][rows],
        "instrument": _categorical(pro["instrument"][rows], INSTRUMENTS),
        "value": pro["value"][rows],
        "unit": _categorical(pro["unit"][rows].astype(np.int32) - 1, UNITS[1:]),
    })


def events_frame(cohort: Cohort, ev: dict[str, np.ndarray], rows: slice, site_ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": _categorical(cohort.local[ev["pid"][rows]], site_ids),
        "days_from_index": ev["day"][rows],
        "event": _categorical(ev["event"][rows], EVENT_CODES),
        "detail": _categorical(ev["detail"][rows].astype(np.int32) - 1, DETAILS[1:]),
    })


def patient_row(cohort: Cohort, delivered: dict[str, np.ndarray], pid: int) -> dict[str, object]:
    """One patient's delivered row as plain values (str / float / None), for re-delivering it elsewhere."""
    out: dict[str, object] = {"site_id": M.SITES[cohort.site[pid]], "patient_id": str(cohort.ids[pid])}
    for column in contract.COLUMNS["patients"][2:]:
        value = delivered[column][pid]
        if column in VOCAB:
            out[column] = None if value < 0 else VOCAB[column][value]
        else:
            out[column] = None if np.isnan(value) else float(value)
    return out


def pro_row(cohort: Cohort, pro: dict[str, np.ndarray], i: int) -> dict[str, object]:
    pid = int(pro["pid"][i])
    return {"site_id": M.SITES[cohort.site[pid]], "patient_id": str(cohort.ids[pid]),
            "days_from_index": float(pro["day"][i]), "instrument": INSTRUMENTS[pro["instrument"][i]],
            "value": float(pro["value"][i]), "unit": UNITS[pro["unit"][i]]}


def event_row(cohort: Cohort, ev: dict[str, np.ndarray], i: int) -> dict[str, object]:
    pid = int(ev["pid"][i])
    return {"site_id": M.SITES[cohort.site[pid]], "patient_id": str(cohort.ids[pid]),
            "days_from_index": float(ev["day"][i]), "event": EVENT_CODES[ev["event"][i]],
            "detail": DETAILS[ev["detail"][i]]}


def fresh_patient(rng: np.random.Generator, patient_id: str, site_id: str,
                  last_year: int) -> dict[str, object]:
    """A plausible, valid patient row for a patient that has no other rows (defects are planted on it)."""
    arm = int(rng.integers(0, 2))
    return {
        "site_id": site_id, "patient_id": patient_id, "procedure": M.ARMS[arm],
        "index_year": float(rng.integers(M.ENROLMENT_START.year, last_year + 1)),
        "age_at_index": float(rng.integers(60, 86)), "sex": SEXES[int(rng.integers(0, 2))],
        "bmi": float(np.round(rng.uniform(21, 36), 1)), "diabetes": float(rng.integers(0, 2)),
        "smoker": 0.0, "prior_esi": 1.0, "symptom_months": float(rng.integers(6, 60)),
        "levels_treated": float(rng.integers(1, 4)), "asa_class": float(rng.integers(1, 4)),
        "anesthesia": ANESTHESIA[1 - arm], "los_days": 0.0 if arm else float(rng.integers(0, 4)),
    }


def sort_rows(cols: dict[str, np.ndarray], cohort: Cohort, order_column: str) -> np.ndarray:
    """Order rows by drop (delivery, site), then patient, day and code; returns the permutation."""
    drop = cols["delivery"].astype(np.int64) * len(M.SITES) + cohort.site[cols["pid"]]
    key = ((drop << 24 | cols["pid"].astype(np.int64)) << 13 | (cols["day"].astype(np.int64) + 4096)) << 5
    return np.argsort(key | cols[order_column].astype(np.int64), kind="stable")
