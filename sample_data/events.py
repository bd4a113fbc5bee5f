"""Event rows (events.csv) from the follow-up times: only what is observed by each delivery's data cut."""

from __future__ import annotations

import numpy as np

from pipeline import contract
from sample_data import model as M
from sample_data.cohort import Cohort
from sample_data.followup import END_DEATH, END_WITHDRAWN, FollowUp

EVENT_CODES = list(contract.EVENTS)
# Detail vocabulary of clean rows; index 0 is the empty detail.
DETAILS: list[str | None] = [None]
_DETAIL_INDEX: dict[str, dict[int, int]] = {}


def _register(event: str, values: tuple[str | None, ...]) -> None:
    mapping = {}
    for i, value in enumerate(values):
        if value is None:
            mapping[i] = 0
            continue
        if value not in DETAILS:
            DETAILS.append(value)
        mapping[i] = DETAILS.index(value)
    _DETAIL_INDEX[event] = mapping


_register("COMPLICATION", tuple(k[0] for arm in M.ARMS for k in M.COMPLICATION_KINDS[arm]))
for _event, _values in M.EVENT_DETAILS.items():
    _register(_event, _values)


def _detail_codes(event: str, kinds: np.ndarray) -> np.ndarray:
    mapping = _DETAIL_INDEX[event]
    lookup = np.array([mapping[i] for i in range(len(mapping))], np.int16)
    return lookup[kinds]


def make_events(cohort: Cohort, fu: FollowUp) -> dict[str, np.ndarray]:
    """Columns pid, day, event (index into contract.EVENTS), detail (index into DETAILS), delivery."""
    final = fu.observed_until(len(fu.cuts) - 1)
    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []

    def add(pids: np.ndarray, days: np.ndarray, event: str, detail: np.ndarray | None = None) -> None:
        detail = np.zeros(pids.size, np.int16) if detail is None else detail
        parts.append((pids, days, EVENT_CODES.index(event), detail))

    for event in ("REINTERVENTION_SURGERY", "REPEAT_MILD", "COMPLICATION", "RETURN_TO_ACTIVITY", "INJECTION"):
        day = fu.times[event]
        pids = np.flatnonzero(day <= final)
        kinds = fu.kinds.get(event)
        add(pids, day[pids], event, None if kinds is None else _detail_codes(event, kinds[pids]))

    ended = fu.end_day <= fu.cut_day[-1]
    for reason, event in ((END_DEATH, "DEATH"), (END_WITHDRAWN, "WITHDRAWN")):
        pids = np.flatnonzero(ended & (fu.end_reason == reason))
        kinds = fu.kinds.get(event)
        add(pids, fu.end_day[pids], event, None if kinds is None else _detail_codes(event, kinds[pids]))

    # LAST_CONTACT: each delivery reports the last day a patient still in follow-up was known alive;
    # a day already reported by the previous delivery is not repeated.
    previous = None
    for k in range(len(fu.cuts)):
        seen = fu.observed_until(k)
        alive = (fu.cut_day[k] >= 0) & ~((fu.end_day <= fu.cut_day[k]) & (fu.end_reason <= END_WITHDRAWN))
        if previous is not None:
            alive &= (fu.enrol == k) | (seen > previous)
        pids = np.flatnonzero(alive)
        add(pids, seen[pids], "LAST_CONTACT")
        previous = seen

    pid = np.concatenate([p[0] for p in parts]).astype(np.int32)
    day = np.concatenate([p[1] for p in parts]).astype(np.int16)
    event = np.concatenate([np.full(p[0].size, p[2], np.int8) for p in parts])
    detail = np.concatenate([p[3] for p in parts]).astype(np.int16)
    return {"pid": pid, "day": day, "event": event, "detail": detail,
            "delivery": delivery_of(fu, pid, day)}


def delivery_of(fu: FollowUp, pid: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Delivery of a row: the first whose cut the row's date has passed, not before the patient's own."""
    out = np.full(pid.size, len(fu.cuts) - 1, np.int8)
    for k in range(len(fu.cuts) - 2, -1, -1):
        out[day <= fu.cut_day[k][pid]] = k
    return np.maximum(out, fu.enrol[pid])
