"""Defective rows planted in each delivery, one defect per row so that the expected quarantine reason is
unambiguous under the precedence of contract.REASON_CODES.

Defective patient rows belong to fresh patients that have no other rows (else their PRO and event rows
would become orphans); defective PRO and event rows name accepted patients, on keys no other row uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sample_data import model as M
from sample_data.cohort import Cohort, make_ids
from sample_data.followup import FollowUp
from sample_data.plan import Drop, Extra
from sample_data.tables import fresh_patient

RATE = 0.003  # defective rows per clean row of a table and delivery (at least one of each variant)


class Raw(str):
    """A value written verbatim into a numeric column (not of the column's type); CSV only."""


IDENTIFIER_DETAILS = {
    "phone": "patient asked to be called back on 555-867-5309",
    "email": "report sent to jane.doe@example.com",
    "date": "seen again on 2024-03-05",
    "ssn": "form showed 078-05-1120",
    "url": "see https://example.org/notes/spine",
}
TOO_LONG_DETAIL = ("superficial wound infection treated with oral antibiotics, dressing changes by the "
                   "district nurse, reviewed in clinic twice, healed without further surgery; patient was "
                   "satisfied with the care received and returned to walking the dog")


@dataclass(frozen=True)
class Variant:
    name: str
    table: str
    reason: str
    subject: str  # "fresh": a patient without other rows, "real": an accepted patient
    change: dict  # column -> planted value
    csv_only: bool = False
    rows: int = 1


_P, _R, _E = "patients", "pro_responses", "events"
VARIANTS = (
    Variant("age_17", _P, "out_of_range", "fresh", {"age_at_index": 17.0}),
    Variant("bmi_95", _P, "out_of_range", "fresh", {"bmi": 95.0}),
    Variant("future_index_year", _P, "out_of_range", "fresh", {"index_year": 2099.0}),
    Variant("sex_X", _P, "unknown_code", "fresh", {"sex": "X"}),
    Variant("anesthesia_SPINAL", _P, "unknown_code", "fresh", {"anesthesia": "SPINAL"}),
    Variant("age_text", _P, "invalid_type", "fresh", {"age_at_index": Raw("seventy")}, csv_only=True),
    Variant("levels_missing", _P, "missing_value", "fresh", {"levels_treated": None}),
    Variant("bad_patient_id", _P, "invalid_id", "fresh", {}),
    Variant("conflict", _P, "conflicting_duplicate", "fresh", {}, rows=2),
    Variant("odi_130", _R, "out_of_range", "real", {"value": 130.0}),
    Variant("nrs_11", _R, "out_of_range", "real", {"instrument": "NRS_LEG", "value": 11.0}),
    Variant("satisfaction_pre_index", _R, "out_of_range", "real",
            {"instrument": "SATISFACTION", "days_from_index": -7.0, "value": 2.0}),
    Variant("day_4000", _R, "out_of_range", "real", {"days_from_index": 4000.0}),
    Variant("instrument_ODI2", _R, "unknown_code", "real", {"instrument": "ODI2"}),
    Variant("walk_no_unit", _R, "invalid_unit", "real", {"instrument": "WALK_DISTANCE", "value": 300.0}),
    Variant("walk_yd", _R, "invalid_unit", "real",
            {"instrument": "WALK_DISTANCE", "value": 300.0, "unit": "yd"}),
    Variant("odi_with_unit", _R, "invalid_unit", "real", {"unit": "points"}),
    Variant("value_text", _R, "invalid_type", "real", {"value": Raw("abc")}, csv_only=True),
    Variant("value_missing", _R, "missing_value", "real", {"value": None}),
    Variant("bad_patient_id", _R, "invalid_id", "fresh", {}),
    Variant("orphan", _R, "orphan", "fresh", {"days_from_index": 91.0}),
    Variant("conflict", _R, "conflicting_duplicate", "real", {}, rows=2),
    Variant("malformed", _R, "malformed_row", "real", {}, csv_only=True),
    Variant("day_4000", _E, "out_of_range", "real", {"days_from_index": 4000.0, "event": "INJECTION"}),
    Variant("negative_day", _E, "out_of_range", "real", {"days_from_index": -3.0}),
    Variant("event_FALL", _E, "unknown_code", "real", {"event": "FALL", "detail": None}),
    Variant("day_text", _E, "invalid_type", "real", {"days_from_index": Raw("ten")}, csv_only=True),
    Variant("event_missing", _E, "missing_value", "real", {"event": None}),
    Variant("bad_patient_id", _E, "invalid_id", "fresh", {}),
    Variant("orphan", _E, "orphan", "fresh", {"event": "INJECTION", "detail": None}),
    *(Variant(kind, _E, "identifier_in_text", "real", {"detail": text})
      for kind, text in IDENTIFIER_DETAILS.items()),
    Variant("too_long", _E, "text_too_long", "real", {"detail": TOO_LONG_DETAIL}),
)


class _Patients:
    """Accepted patients that can carry a defective row in delivery k, drawn without replacement per site,
    so that each gets at most one planted row (keys of planted rows never collide)."""

    def __init__(self, rng: np.random.Generator, cohort: Cohort, fu: FollowUp, k: int,
                 avoid: np.ndarray) -> None:
        ok = (fu.enrol <= k) & (fu.observed_until(k) >= 13)
        ok[avoid] = False
        self.pools = {s: list(rng.permutation(np.flatnonzero(ok & (cohort.site == s))))
                      for s in range(len(M.SITES))}

    def take(self, site: int) -> int | None:
        pool = self.pools[site]
        return int(pool.pop()) if pool else None


def plant(rng: np.random.Generator, drops: list[Drop], cohort: Cohort, fu: FollowUp, early: np.ndarray,
          taken: np.ndarray) -> np.ndarray:
    """Add defect extras to the drops of every delivery; returns the id keys taken by fresh patients."""
    for k in sorted({d.k for d in drops}):
        delivery = [d for d in drops if d.k == k]
        csv = [d for d in delivery if not d.parquet]
        chosen: list[Variant] = []
        for table in (_P, _R, _E):
            usable = [v for v in VARIANTS if v.table == table and (csv or not v.csv_only)]
            target = round(RATE * sum(d.n_clean(table) for d in delivery))
            pool = [v for v in usable if v.name != "malformed"]
            chosen += usable + [pool[i] for i in rng.integers(0, len(pool), max(0, target - len(usable)))]
        fresh_ids, keys = make_ids(rng, len(chosen), taken)
        taken = np.concatenate([taken, keys])
        patients = _Patients(rng, cohort, fu, k, early)
        cut_year = fu.cuts[k].year
        for variant, fresh in zip(chosen, fresh_ids, strict=True):
            targets = csv if variant.csv_only else delivery
            weights = np.array([d.n_clean(variant.table) + 1.0 for d in targets])
            first = int(rng.choice(len(targets), p=weights / weights.sum()))
            for drop in targets[first:] + targets[:first]:
                pid = patients.take(drop.site) if variant.subject == "real" else -1
                if pid is not None:
                    _add(rng, drop, variant, cohort, pid, str(fresh), cut_year)
                    break
    return taken


def _add(rng: np.random.Generator, drop: Drop, variant: Variant, cohort: Cohort, pid: int, fresh: str,
         cut_year: int) -> None:
    site = M.SITES[drop.site]
    patient = str(cohort.ids[pid]) if pid >= 0 else fresh
    day = float(rng.integers(1, 14))  # no clean row of these patients lies on days 1..13
    if variant.table == _P:
        base = fresh_patient(rng, fresh, site, cut_year)
    elif variant.table == _R:
        base = {"site_id": site, "patient_id": patient, "days_from_index": day, "instrument": "ODI",
                "value": float(rng.integers(15, 70)), "unit": None}
    else:
        base = {"site_id": site, "patient_id": patient, "days_from_index": day, "event": "COMPLICATION",
                "detail": "hematoma"}
    if variant.name == "bad_patient_id":
        base["patient_id"] = "P#" + fresh[1:]
    if variant.name == "malformed":
        drop.malformed.append(f"{site},{patient},{int(day)},ODI,{int(base['value'])},,unexpected")
        return
    rows = [{**base, **variant.change}]
    if variant.name == "conflict":
        column = "bmi" if variant.table == _P else "value"
        rows.append({**rows[0], column: rows[0][column] + 6.0})
    for values in rows:
        drop.extras.append(Extra(variant.table, values, variant.reason, variant.name))
