"""Pre-dropout truth of the PRO estimands over the patients eligible at each visit (SAP 3.1).

For every arm, instrument and post-baseline visit: the mean over the *eligible* patients of each patient's
expected change (or responder / satisfaction probability) had the patient answered the visit, given
everything drawn at patient level (covariates, baseline values, response z) and integrating only over
visit-level noise. Whether the patient actually answered (missed at random, not at random, or lost) plays
no part: this is what the MAR (IPAW) estimator targets and what complete-case numbers miss under MNAR
attendance. Rounding and clipping are included exactly; unit rounding of walking distance and standing time
(at most 0.005 km or 0.005 h) is ignored.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from pipeline import contract
from pipeline.study import Study
from sample_data import model as M
from sample_data.cohort import Cohort
from sample_data.followup import FollowUp
from sample_data.pros import INSTRUMENTS, Pros, eligible_at, latent_mean, satisfaction_eta
from sample_data.truth import expected_rounded

# SAP 3 responder thresholds (improvement) on the reported scale; log instruments: a share of baseline.
RESPONDER = {"ODI": 10.0, "NRS_BACK": 2.0, "NRS_LEG": 2.0, "ZCQ_SYMPTOM": 0.5, "ZCQ_FUNCTION": 0.5}
RESPONDER_SHARE = 0.30  # WALK_DISTANCE, STAND_TIME: improvement >= 30% of baseline
ZCQ_SATISFIED = 2.5  # ZCQ_SATISFACTION <= 2.5
DECIMALS = {"ODI": 0, "NRS_BACK": 0, "NRS_LEG": 0, "ZCQ_SYMPTOM": 1, "ZCQ_FUNCTION": 1}


def eligible(cohort: Cohort, fu: FollowUp, pros: Pros, visit_start: int, cut_year: int,
             instrument: str | None) -> np.ndarray:
    """SAP 3.1 eligibility at a visit starting on day `visit_start` (pros.eligible_at) for an instrument
    (None: satisfaction, no baseline needed)."""
    base = np.ones(cohort.n, bool) if instrument is None else pros.has_baseline[instrument]
    return eligible_at(cohort, fu, base, visit_start, cut_year)


def _rounded(cohort: Cohort, instrument: str, visit: str, mild: float,
             sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected change and responder probability of the patients `sel` for ODI, NRS and ZCQ (rounded,
    clipped)."""
    p, spec = M.PRO_CHANGE[instrument], contract.INSTRUMENTS[instrument]
    scale = 10.0 ** DECIMALS[instrument]  # work in integer units of the reported precision
    m = latent_mean(cohort, instrument, visit, mild)[sel] * scale
    sd = p["sd_e"] * scale
    lo, hi = round(spec.low * scale), round(spec.high * scale)
    base = np.round(cohort.baseline[instrument][sel] * scale)
    change = (expected_rounded(m, sd, lo, hi) - base) / scale
    cut = base - round(RESPONDER[instrument] * scale)  # responder <=> reported value <= cut
    responder = np.where(cut < lo, 0.0, np.where(cut >= hi, 1.0, ndtr((cut + 0.5 - m) / sd)))
    return change, responder


def _log_scale(cohort: Cohort, instrument: str, visit: str, mild: float,
               sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance, standing time: value = clip(exp(X), lo, hi), X ~ N(m, sd)."""
    sd = M.PRO_CHANGE[instrument]["sd_e"]
    m = latent_mean(cohort, instrument, visit, mild)[sel]
    lo, hi = M.LOG_LIMITS[instrument]
    a, b = (np.log(lo) - m) / sd, (np.log(hi) - m) / sd
    mean = lo * ndtr(a) + hi * (1 - ndtr(b)) + np.exp(m + sd**2 / 2) * (ndtr(b - sd) - ndtr(a - sd))
    base = cohort.baseline[instrument][sel]
    target = (1 + RESPONDER_SHARE) * base
    responder = np.where(target > hi, 0.0, np.where(target <= lo, 1.0, 1 - ndtr((np.log(target) - m) / sd)))
    return mean - base, responder


def _satisfied(cohort: Cohort, instrument: str, visit: str, mild: float, sel: np.ndarray) -> np.ndarray:
    eta = satisfaction_eta(cohort, visit, mild)[sel]
    if instrument == "SATISFACTION":
        return expit(M.SATISFACTION["theta"][1] - eta)  # NASS 1 or 2
    z = M.ZCQ_SATISFACTION  # reported value (0.1 steps) <= 2.5 <=> latent < 2.55
    return ndtr((ZCQ_SATISFIED + 0.05 - (z["intercept"] + z["eta"] * eta)) / z["sd"])


def pro_truth(cohort: Cohort, fu: FollowUp, pros: Pros, study: Study, cut_year: int) -> dict:
    """truth.pro_eligible: per arm, instrument and visit the eligible count, how many of them answered,
    and the pre-dropout mean change and responder probability (satisfaction: satisfied probability)."""
    arms: dict[str, dict] = {arm: {} for arm in M.ARMS}
    c = pros.cols
    delivered = c["delivered"]
    for instrument in INSTRUMENTS:
        satisfaction = instrument in ("SATISFACTION", "ZCQ_SATISFACTION")
        rows = np.flatnonzero(delivered & (c["instrument"] == INSTRUMENTS.index(instrument)))
        pid, day = c["pid"][rows], c["day"][rows]
        for visit in study.visits[1:]:
            elig = eligible(cohort, fu, pros, visit.start, cut_year, None if satisfaction else instrument)
            assessed = np.zeros(cohort.n, bool)
            assessed[pid[(day >= visit.start) & (day <= visit.end)]] = True
            for code, arm in enumerate(M.ARMS):
                sel = elig & (cohort.arm == code)
                entry: dict[str, float | int | None] = {"eligible": int(sel.sum()),
                                                        "assessed": int((sel & assessed).sum())}
                if not sel.any():
                    values = {}
                elif satisfaction:
                    values = {"satisfied_probability": _satisfied(cohort, instrument, visit.name, code, sel)}
                elif M.PRO_CHANGE[instrument].get("log"):
                    change, responder = _log_scale(cohort, instrument, visit.name, code, sel)
                    values = {"mean_change": change, "responder_probability": responder}
                else:
                    change, responder = _rounded(cohort, instrument, visit.name, code, sel)
                    values = {"mean_change": change, "responder_probability": responder}
                keys = ("satisfied_probability",) if satisfaction else ("mean_change", "responder_probability")
                for key in keys:
                    entry[key] = float(values[key].mean()) if key in values else None
                arms[arm].setdefault(instrument, {})[visit.name] = entry
    # Visits in study order within each instrument (as the loops above add them).
    return {"data_cut_year": cut_year, "responder_thresholds": {**RESPONDER, "log_share": RESPONDER_SHARE},
            "arms": arms}
