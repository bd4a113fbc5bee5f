"""Patient-reported outcome rows (pro_responses.csv): baseline, scheduled visits and a few extra
assessments outside every visit window, vectorized per visit and instrument."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from pipeline import contract
from pipeline.study import Study
from sample_data import model as M
from sample_data.cohort import Cohort, burden
from sample_data.events import delivery_of
from sample_data.followup import END_WITHDRAWN, FollowUp

INSTRUMENTS = list(contract.INSTRUMENTS)
UNITS: list[str | None] = [None, "m", "ft", "km", "mi", "min", "h"]  # index 0 = no unit
MECHANISMS = ("mcar", "mnar")  # visit missingness: completely at random, or depending on the last ODI
_ROUND = {"ODI": 0, "NRS_BACK": 0, "NRS_LEG": 0, "ZCQ_SYMPTOM": 1, "ZCQ_FUNCTION": 1, "ZCQ_SATISFACTION": 1}


def latent_mean(cohort: Cohort, instrument: str, visit: str, mild: np.ndarray | float) -> np.ndarray:
    """Mean of the latent visit value X given the patient (covariates, baseline, z) and arm.

    Shared with the truth computation: the arm enters only as the additive constant tau[visit].
    """
    p = M.PRO_CHANGE[instrument]
    base = cohort.baseline[instrument]
    if p.get("log"):
        base = np.log(base)
    return (base + p["delta_lam"][visit] + p["tau"][visit] * mild + p["burden_scale"] * burden(cohort.x)
            - p["rho"] * (base - p["ref"]) + p["z_load"] * cohort.z)


def satisfaction_eta(cohort: Cohort, visit: str, mild: np.ndarray | float) -> np.ndarray:
    s = M.SATISFACTION
    return s["visit"][visit] + s["arm"] * mild + s["z_load"] * cohort.z + s["diabetes"] * cohort.x["diabetes"]


def eligible_at(cohort: Cohort, fu: FollowUp, has_baseline: np.ndarray, visit_start: int,
                cut_year: int) -> np.ndarray:
    """SAP 3.1 eligibility at a visit starting on day `visit_start`: analysis population, a baseline value
    (`has_baseline`; all True for satisfaction), due, not known dead or withdrawn before the window.
    Follow-up end = the last day observed at the last cut (what the rows and events show)."""
    follow_up_end = fu.observed_until(len(fu.cuts) - 1)
    due = ((cohort.index_year + 0.5 + visit_start / M.YEAR <= cut_year + 1)
           | (follow_up_end >= visit_start))
    stopped = ((fu.end_reason <= END_WITHDRAWN) & (fu.end_day <= fu.cut_day[-1])
               & (fu.end_day < visit_start))
    return (cohort.arm < 2) & has_baseline & due & ~stopped


def _visit_days(rng: np.random.Generator, n: int, start: int, end: int, target: int) -> np.ndarray:
    """Target day plus normal jitter, redrawn until inside the visit's window (so visits never stray into
    a neighbouring window and every scheduled assessment belongs to its visit)."""
    sd = min(45.0, min(target - start, end - target) / 2.5)
    days = np.rint(target + sd * rng.normal(0, 1, n)).astype(np.int64)
    while True:
        bad = np.flatnonzero((days < start) | (days > end))
        if not bad.size:
            return days
        days[bad] = np.rint(target + sd * rng.normal(0, 1, bad.size)).astype(np.int64)


class _Rows:
    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, pid: np.ndarray, day: np.ndarray, instrument: str, value: np.ndarray,
            unit: np.ndarray | None = None, delivered: np.ndarray | None = None) -> None:
        unit = np.zeros(pid.size, np.int8) if unit is None else unit
        delivered = np.ones(pid.size, bool) if delivered is None else delivered
        self.parts.append((pid, day, np.full(pid.size, INSTRUMENTS.index(instrument), np.int8), value, unit,
                           delivered))

    def columns(self) -> dict[str, np.ndarray]:
        names = ("pid", "day", "instrument", "value", "unit", "delivered")
        types = (np.int32, np.int16, np.int8, np.float64, np.int8, np.bool_)
        return {name: np.concatenate([p[i] for p in self.parts]).astype(t)
                for i, (name, t) in enumerate(zip(names, types, strict=True))}


def _with_units(rng: np.random.Generator, cohort: Cohort, instrument: str, canonical: np.ndarray,
                pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Express canonical values (m, min) in the unit each site reports, rounded as a site would."""
    u = rng.random(pids.size)
    if instrument == "STAND_TIME":
        hours = u < np.array([M.STAND_HOURS[s] for s in M.SITES])[cohort.site[pids]]
        value = np.where(hours, np.round(canonical / 60, 2), np.round(canonical))
        return value, np.where(hours, UNITS.index("h"), UNITS.index("min")).astype(np.int8)
    probs = np.array([M.WALK_UNITS[s] for s in M.SITES])[cohort.site[pids]]
    unit = (u[:, None] > np.cumsum(probs, axis=1)[:, :3]).sum(axis=1)  # 0 m, 1 ft, 2 km, 3 mi
    large = canonical >= M.LARGE_DISTANCE_M
    unit = np.where(large & (unit == 0), 2, np.where(large & (unit == 1), 3, unit))
    factor = np.array([1.0, 0.3048, 1000.0, 1609.344])[unit]
    value = np.where(unit <= 1, np.round(canonical / factor), np.round(canonical / factor, 2))
    return value, (unit + UNITS.index("m")).astype(np.int8)


def _emit(rows: _Rows, rng: np.random.Generator, cohort: Cohort, instrument: str, pids: np.ndarray,
          day: np.ndarray, value: np.ndarray, delivered: np.ndarray | None = None) -> None:
    unit = None
    if instrument in ("WALK_DISTANCE", "STAND_TIME"):
        value, unit = _with_units(rng, cohort, instrument, value, pids)
    rows.add(pids, day, instrument, value, unit, delivered)


def _clip_round(instrument: str, x: np.ndarray) -> np.ndarray:
    spec = contract.INSTRUMENTS[instrument]
    return np.clip(np.round(x, _ROUND[instrument]), spec.low, spec.high)


def attendance_logit(cohort: Cohort, visit: str, last_odi: np.ndarray) -> np.ndarray:
    """Log-odds of ODI being assessed at `visit` among the eligible patients under the MNAR mechanism: one
    logistic in the arm and the most recent observed ODI (worse = higher = less likely), common slope."""
    a = M.ATTENDANCE_MNAR
    arm = np.where(cohort.arm == 1, a["arm"]["MILD"], a["arm"]["LAMINECTOMY"])
    return a["intercept"][visit] + arm + a["per_10_points"] * (last_odi - a["ref_odi"]) / 10.0


def attendance_probability(cohort: Cohort, visit: str, last_odi: np.ndarray, kept: np.ndarray,
                           eligible: np.ndarray) -> np.ndarray:
    """P(a patient whom the at-random mechanism keeps at `visit` answers) under the MNAR mechanism:
    expit(attendance_logit) / K[arm], K = the share of the arm's eligible patients kept at random with an ODI
    value (visit not missed at random, follow-up reached the window, ODI item not skipped). Then among the
    eligible patients P(ODI assessed | arm, last ODI) = expit(attendance_logit) exactly, as long as being kept
    at random is independent of the last ODI given the arm and the ratio stays below 1 (it is capped at 1: a
    few patients with a very good last ODI; docs/sample-data.md gives the share)."""
    share = np.ones(2)
    for arm in (0, 1):
        members = eligible & (cohort.arm == arm)
        if members.any():
            share[arm] = max(kept[members].mean(), 1e-9)
    k = share[np.clip(cohort.arm, 0, 1)] * (1.0 - M.ITEM_MISSED_DEFAULT)
    return np.minimum(1.0, expit(attendance_logit(cohort, visit, last_odi)) / k)


@dataclass
class Pros:
    """The PRO rows (column arrays) and, per instrument, which patients delivered a baseline value."""

    cols: dict[str, np.ndarray]
    has_baseline: dict[str, np.ndarray]


def make_pros(rng: np.random.Generator, cohort: Cohort, fu: FollowUp, study: Study, missing: str = "mnar",
              attendance_rng: np.random.Generator | None = None) -> Pros:
    """PRO rows. `missing` is the visit-missingness mechanism: "mcar" misses visits at random
    (VISIT_MISSED); "mnar" also thins those visits by attendance_probability, drawn from
    `attendance_rng` only. The rows the thinning removes are kept with delivered = False: every draw of
    `rng` (here and in the later steps that pick rows to repeat or to place defects beside) is then the
    same under both mechanisms, and only which rows are written differs (tables.pro_frame)."""
    if missing not in MECHANISMS:
        raise ValueError(f"missing must be one of {MECHANISMS}")
    if missing == "mnar" and attendance_rng is None:
        raise ValueError("the mnar mechanism needs its own attendance_rng")
    n, rows = cohort.n, _Rows()
    has_baseline: dict[str, np.ndarray] = {}
    limit = fu.pro_limit()
    mild = (cohort.arm == 1).astype(float)
    lo, hi = M.BASELINE_DAYS
    base_day = rng.integers(lo, hi + 1, n)
    has_base = rng.random(n) >= M.BASELINE_MISSED
    for instrument in M.PRO_CHANGE:
        p_miss = M.ITEM_MISSED.get(instrument, M.ITEM_MISSED_DEFAULT)
        keep = np.flatnonzero(has_base & (rng.random(n) >= p_miss))
        _emit(rows, rng, cohort, instrument, keep, base_day[keep], cohort.baseline[instrument][keep])
        has_baseline[instrument] = np.zeros(n, bool)
        has_baseline[instrument][keep] = True
    # Most recent delivered ODI of each patient (baseline, then each attended visit); patients with none
    # count as having the reference value.
    last_odi = np.where(has_baseline["ODI"], cohort.baseline["ODI"], M.ATTENDANCE_MNAR["ref_odi"])

    for visit in study.visits[1:]:
        day = _visit_days(rng, n, visit.start, visit.end, visit.target)
        attended = (rng.random(n) >= M.VISIT_MISSED[visit.name]) & (day <= limit)
        answers = np.ones(n, bool)
        if missing == "mnar":
            eligible = eligible_at(cohort, fu, has_baseline["ODI"], visit.start, fu.cuts[-1].year)
            probability = attendance_probability(cohort, visit.name, last_odi, attended, eligible)
            answers = attendance_rng.random(n) < probability
        for instrument in INSTRUMENTS:
            p_miss = M.ITEM_MISSED.get(instrument, M.ITEM_MISSED_DEFAULT)
            keep = np.flatnonzero(attended & (rng.random(n) >= p_miss))
            if instrument == "SATISFACTION":
                eta = satisfaction_eta(cohort, visit.name, mild)[keep]
                theta = np.asarray(M.SATISFACTION["theta"])
                u = rng.random(keep.size)
                value = 1.0 + (u[:, None] > expit(theta[None, :] - eta[:, None])).sum(axis=1)
            elif instrument == "ZCQ_SATISFACTION":
                z = M.ZCQ_SATISFACTION
                eta = satisfaction_eta(cohort, visit.name, mild)[keep]
                noise = rng.normal(0, z["sd"], keep.size)
                value = _clip_round(instrument, z["intercept"] + z["eta"] * eta + noise)
            else:
                p = M.PRO_CHANGE[instrument]
                noise = rng.normal(0, p["sd_e"], keep.size)
                x = latent_mean(cohort, instrument, visit.name, mild)[keep] + noise
                if p.get("log"):
                    value = np.clip(np.exp(x), *M.LOG_LIMITS[instrument])
                else:
                    value = _clip_round(instrument, x)
            # Rows exist for every patient the at-random mechanism keeps (same draws under both
            # mechanisms); the MNAR thinning only marks rows not delivered (column "delivered").
            delivered = answers[keep]
            _emit(rows, rng, cohort, instrument, keep, day[keep], value, delivered)
            if instrument == "ODI":
                last_odi[keep[delivered]] = value[delivered]

    # A few assessments outside every window (valid rows that visit-based analyses must leave out):
    # an early post-operative check, and an older pre-operative consultation.
    for extra, post in ((M.EXTRA_EARLY, True), (M.EXTRA_PRE, False)):
        day = rng.integers(extra["days"][0], extra["days"][1] + 1, n)
        keep = np.flatnonzero((rng.random(n) < extra["share"]) & (day <= limit if post else True))
        for instrument in extra["instruments"]:
            p = M.PRO_CHANGE[instrument]
            shift = 0.5 * p["delta_lam"]["W6"] if post else 0.0
            x = cohort.baseline[instrument][keep] + shift + rng.normal(0, p["sd_e"] / 2, keep.size)
            rows.add(keep, day[keep], instrument, _clip_round(instrument, x))

    cols = rows.columns()
    cols["delivery"] = delivery_of(fu, cols["pid"], cols["day"])
    return Pros(cols=cols, has_baseline=has_baseline)


def early_check_patients(pro: dict[str, np.ndarray]) -> np.ndarray:
    """Patients with a post-index row before day 14 (defect rows avoid their keys)."""
    return np.unique(pro["pid"][(pro["day"] > 0) & (pro["day"] < 14)])
