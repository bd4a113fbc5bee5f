"""Follow-up of each patient: data cuts, death, withdrawal, loss to follow-up and the outcome event times.

Loss to follow-up, withdrawal and the index date (hence the data cut) are drawn independently of every
covariate and outcome, so that they are non-informative given the arm. Death depends on age only, which
no outcome model uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.special import expit

from sample_data import model as M
from sample_data.cohort import Cohort

NEVER = 10**6  # a day beyond any follow-up
END_DEATH, END_WITHDRAWN, END_LOST, END_PROTOCOL = 0, 1, 2, 3


@dataclass
class FollowUp:
    cuts: list[date]  # data cut (as-of date) of each delivery, ascending
    cut_day: np.ndarray  # (deliveries, n): the cut as a day from index (negative: not yet enrolled)
    enrol: np.ndarray  # delivery (0-based) in which the patient is first delivered
    end_day: np.ndarray  # end of follow-up without data cut: min(death, withdrawal, loss, protocol end)
    end_reason: np.ndarray  # END_* code of end_day
    death: np.ndarray
    times: dict[str, np.ndarray]  # outcome event days (NEVER when it does not happen)
    kinds: dict[str, np.ndarray]  # index into the detail list of an event (see events.py)

    def observed_until(self, k: int) -> np.ndarray:
        """Last day observed in delivery k (events on this day included)."""
        return np.minimum(self.end_day, self.cut_day[k])

    def pro_limit(self) -> np.ndarray:
        """Last day on which a PRO assessment can exist: none on or after death or withdrawal."""
        last = self.observed_until(len(self.cuts) - 1)
        stops = (self.end_day <= self.cut_day[-1]) & (self.end_reason <= END_WITHDRAWN)
        return np.where(stops, last - 1, last)


def delivery_cuts(as_of: date, deliveries: int) -> list[date]:
    cuts = []
    for k in range(deliveries):
        months = as_of.year * 12 + as_of.month - 1 - M.DELIVERY_SPACING_MONTHS * (deliveries - 1 - k)
        year, month = divmod(months, 12)
        cuts.append(_clamped(year, month + 1, as_of.day))
    return cuts


def _clamped(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def _days(rng: np.random.Generator, cumhaz_scale: np.ndarray, shape: float | np.ndarray) -> np.ndarray:
    """Integer event day ceil(T) for cumulative hazard H(t) = scale * (t / YEAR) ** shape."""
    e = rng.exponential(1.0, cumhaz_scale.shape[0])
    t = M.YEAR * (e / cumhaz_scale) ** (1.0 / shape)
    return np.ceil(np.minimum(t, NEVER)).astype(np.int64)


def reintervention_lp(cohort: Cohort) -> np.ndarray:
    c, m = M.REINT_COEF, M.REINT_CENTRES
    x = cohort.x
    return (c["smoker"] * (x["smoker"] - m["smoker"]) + c["diabetes"] * (x["diabetes"] - m["diabetes"])
            + c["levels_treated"] * (x["levels_treated"] - m["levels_treated"])
            + c["z"] * (cohort.z - m["z"]))


def arm_param(cohort: Cohort, table: dict[str, float], arm: np.ndarray | None = None) -> np.ndarray:
    """Per-patient value of an arm-specific parameter (other procedures follow laminectomy); `arm`
    overrides the received arm (for potential outcomes)."""
    return np.where((cohort.arm if arm is None else arm) == 1, table["MILD"], table["LAMINECTOMY"])


def complication_prob(cohort: Cohort, arm: np.ndarray | None = None) -> np.ndarray:
    c, x = M.COMPLICATION, cohort.x
    return expit(arm_param(cohort, c["intercept"], arm) + c["diabetes"] * x["diabetes"]
                 + c["asa_class"] * (x["asa_class"] - 2) + c["bmi"] * (x["bmi"] - 29))


def same_day_prob(cohort: Cohort) -> np.ndarray:
    s = M.SAME_DAY
    return expit(arm_param(cohort, s["intercept"]) + s["asa_class"] * (cohort.x["asa_class"] - 2))


def rta_mu(cohort: Cohort) -> np.ndarray:
    r = M.RETURN_TO_ACTIVITY
    return arm_param(cohort, r["mu"]) + r["asa_class"] * (cohort.x["asa_class"] - 2)


def make_follow_up(rng: np.random.Generator, cohort: Cohort, as_of: date, deliveries: int,
                   protocol_end: int) -> FollowUp:
    n = cohort.n
    cuts = delivery_cuts(as_of, deliveries)
    cut_day = np.stack([(np.datetime64(c, "D") - cohort.index_date).astype(np.int64) for c in cuts])
    enrol = np.argmax(cut_day >= 0, axis=0).astype(np.int8)

    death_rate = M.DEATH["rate_at_75"] * np.exp(M.DEATH["age_slope"] * (cohort.x["age"] - 75))
    death = _days(rng, death_rate, 1.0)
    withdrawn = _days(rng, np.full(n, M.WITHDRAWAL_RATE), 1.0)
    lost = _days(rng, np.full(n, M.LOSS["scale"]), M.LOSS["shape"])
    ends = np.stack([death, withdrawn, lost, np.full(n, protocol_end, np.int64)])
    end_reason = np.argmin(ends, axis=0).astype(np.int8)  # ties: death before withdrawal before loss
    end_day = ends.min(axis=0)

    times: dict[str, np.ndarray] = {}
    kinds: dict[str, np.ndarray] = {}
    lp = reintervention_lp(cohort)
    scale = arm_param(cohort, {a: M.REINTERVENTION[a]["scale"] for a in M.ARMS}) * np.exp(lp)
    shape = arm_param(cohort, {a: M.REINTERVENTION[a]["shape"] for a in M.ARMS})
    reint = _days(rng, scale, shape)
    repeat = (cohort.arm == 1) & (rng.random(n) < M.REPEAT_MILD_SHARE)
    times["REINTERVENTION_SURGERY"] = np.where(repeat, NEVER, reint)
    times["REPEAT_MILD"] = np.where(repeat, reint, NEVER)

    has_comp = rng.random(n) < complication_prob(cohort)
    comp_day = np.full(n, NEVER, np.int64)
    kinds["COMPLICATION"] = np.zeros(n, np.int8)
    for arm_code, arm in ((0, "LAMINECTOMY"), (1, "MILD")):
        table = M.COMPLICATION_KINDS[arm]
        probs = np.array([t[1] for t in table])
        sel = has_comp & (np.where(cohort.arm == 2, 0, cohort.arm) == arm_code)
        kind = rng.choice(len(table), size=int(sel.sum()), p=probs / probs.sum())
        lo = np.array([t[2] for t in table])[kind]
        hi = np.array([t[3] for t in table])[kind]
        comp_day[sel] = lo + np.floor(rng.random(kind.size) * (hi - lo + 1)).astype(np.int64)
        # detail index into the laminectomy kinds followed by the MILD kinds (see events.DETAILS)
        offset = 0 if arm == "LAMINECTOMY" else len(M.COMPLICATION_KINDS["LAMINECTOMY"])
        kinds["COMPLICATION"][sel] = kind + offset
    times["COMPLICATION"] = comp_day

    rta = np.exp(rta_mu(cohort) + M.RETURN_TO_ACTIVITY["sigma"] * rng.normal(0, 1, n))
    times["RETURN_TO_ACTIVITY"] = np.ceil(rta).astype(np.int64)
    times["INJECTION"] = _days(rng, arm_param(cohort, M.INJECTION_RATE), 1.0)
    for event in ("REINTERVENTION_SURGERY", "REPEAT_MILD", "INJECTION", "WITHDRAWN"):
        kinds[event] = rng.integers(0, len(M.EVENT_DETAILS[event]), n).astype(np.int8)
    return FollowUp(cuts=cuts, cut_day=cut_day, enrol=enrol, end_day=end_day, end_reason=end_reason,
                    death=death, times=times, kinds=kinds)
