"""Subgroup estimates for the forest plot of SAP section 6: the adjusted ODI change difference at the primary
visit and the adjusted reintervention hazard ratio within age < 75 / ≥ 75, sex, baseline ODI < 40 / ≥ 40
and diabetes.

The propensity model is RE-FITTED within each subgroup (same covariates; those constant within the subgroup,
such as `female` within a sex, are dropped by the usual rule), so that the weights balance the covariates
within the subgroup, which a model fitted on everyone does not promise (Dong, Zhang, Zeng & Li 2020; Yang et
al. 2021). Each row carries its own balance (max |SMD| after weighting) and `balance_achieved`. A patient
whose subgrouping variable is missing is in neither level of that subgroup.

A level that cannot be estimated keeps its rows with the reason in `note` (fixed phrases of reasons.py: no
patients of an arm, fewer than the suppression threshold in an arm, separation within the level).

Interaction (SAP 6 version 2): for each pair of levels of a subgroup and each outcome, a z-test of the
difference between the two levels' estimates, z = (a − b) / sqrt(se_a² + se_b²), on the log scale for the
hazard ratio (a, b the log HRs, se their robust SEs), p = 2(1 − Φ(|z|)); both rows of the pair carry it.
The levels are disjoint sets of patients, so the two estimates are independent. Exploratory: no
multiplicity adjustment.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.stats import norm

from pipeline.comparison import reasons
from pipeline.comparison.balance import SAP_GATE, BalanceGate
from pipeline.comparison.estimates import hazard_ratio
from pipeline.comparison.model import weigh
from pipeline.comparison.propensity import COVARIATES, SITE
from pipeline.comparison.ps_variance import corrected_difference, weighting_terms
from pipeline.comparison.robust import weighted_difference
from pipeline.estimable import NotEstimable

Level = tuple[str, str, Callable[[pd.DataFrame], pd.Series]]
SUBGROUPS: tuple[Level, ...] = (
    ("age", "< 75", lambda p: p["age_at_index"] < 75),
    ("age", ">= 75", lambda p: p["age_at_index"] >= 75),
    ("sex", "female", lambda p: p["female"] == 1),
    ("sex", "male or unknown", lambda p: p["female"] == 0),
    ("baseline_odi", "< 40", lambda p: p["baseline_odi"] < 40),
    ("baseline_odi", ">= 40", lambda p: p["baseline_odi"] >= 40),
    ("diabetes", "yes", lambda p: p["diabetes"] == 1),
    ("diabetes", "no", lambda p: p["diabetes"] == 0),
)
COLUMNS = ("subgroup", "level", "outcome", "measure", "estimate", "ci_lower", "ci_upper", "n_treatment",
           "n_comparator", "events_treatment", "events_comparator", "max_abs_smd_after", "balance_achieved",
           "weights", "note", "se", "interaction_p")


def subgroup_estimates(patients: pd.DataFrame, change_row: np.ndarray, change: np.ndarray, scheme: str,
                       truncation: tuple[float, float], outcome_name: str = "ODI change M12",
                       start: dict[str, float] | None = None, minimum: int = 2,
                       arms: tuple[str, str] = ("treatment", "comparator"),
                       gate: BalanceGate = SAP_GATE) -> pd.DataFrame:
    """Forest-plot rows. change_row/change: the primary ODI change per patient who has one (`row` into
    patients). start: the whole population's coefficients, a starting value of each subgroup's fit.
    minimum: the fewest patients per arm for a level to be estimated (the study's suppression threshold);
    arms: the (treatment, comparator) names, for the reason of a level without one of them; gate: the study's
    balance gate (a level's `balance_achieved`)."""
    rows = []
    # What each subgroup's model needs, copied per subgroup; the site levels are recounted within the level.
    covariates = patients[[*COVARIATES, *([SITE] if SITE in patients.columns else []), "treated"]]
    time = patients["reintervention_time"].to_numpy(dtype=float)
    event = patients["reintervention_event"].to_numpy(dtype=float)
    for name, level, rule in SUBGROUPS:
        mask = rule(patients).fillna(False).to_numpy(dtype=bool)
        part = covariates[mask].reset_index(drop=True)
        treated = part["treated"].to_numpy(dtype=bool)
        base = {"subgroup": name, "level": level, "weights": scheme}
        why = reasons.arms_reason(int(treated.sum()), int((~treated).sum()), max(minimum, 2), arms)
        if why == reasons.NO_PATIENTS:
            why = reasons.NO_LEVEL_PATIENTS
        weighting = None
        if why is None:
            try:
                weighting = weigh(part, scheme, truncation, start, gate, site_minimum=minimum)
            except NotEstimable as exc:
                why = exc.reason
        if weighting is None:
            for outcome, measure in ((outcome_name, "mean_change_difference"), ("reintervention", "hazard_ratio")):
                rows.append(base | {"outcome": outcome, "measure": measure, "n_treatment": int(treated.sum()),
                                    "n_comparator": int((~treated).sum()), "note": why})
            continue
        w = weighting.weights
        base |= {"max_abs_smd_after": weighting.balance.max_abs_smd_after, "balance_achieved": weighting.balance.passed}
        position = np.cumsum(mask) - 1  # row in the subgroup of a patient in it
        inside = mask[change_row]
        r = position[change_row[inside]]
        d = weighted_difference(change[inside], treated[r], w[r])
        # The SE accounts for the estimation of the level's propensity model (ps_variance.py).
        d = corrected_difference(weighting_terms(weighting, treated), d, r, change[inside])
        rows.append(base | {"outcome": outcome_name, "measure": "mean_change_difference", "estimate": d.estimate,
                            "se": d.se, "ci_lower": d.lower, "ci_upper": d.upper, "n_treatment": d.n_treatment,
                            "n_comparator": d.n_comparator,
                            "note": None if np.isfinite(d.estimate) else reasons.NO_CHANGES})
        hr = hazard_ratio(time[mask], event[mask], treated, w, robust=True)
        # Unweighted event counts per arm: the report withholds the HR when one is small (SAP 8).
        events = np.nan_to_num(event[mask])
        note = None
        if not np.isfinite(hr.estimate):
            note = reasons.NO_REINTERVENTION if events.sum() == 0 else reasons.NO_REINTERVENTION_ARM
        rows.append(base | {"outcome": "reintervention", "measure": "hazard_ratio", "estimate": hr.estimate,
                            "se": hr.se_log,
                            "ci_lower": hr.lower, "ci_upper": hr.upper, "n_treatment": hr.n_treatment,
                            "n_comparator": hr.n_comparator, "events_treatment": int(events[treated].sum()),
                            "events_comparator": int(events[~treated].sum()), "note": note})
    return with_interactions(pd.DataFrame(rows, columns=list(COLUMNS)))


def interaction_p(a: float, se_a: float, b: float, se_b: float, log_scale: bool) -> float:
    """Two-sided p of the z-test of a − b (log a − log b when log_scale); NaN when either is not estimated."""
    if log_scale:
        a, b = (np.log(v) if v > 0 else np.nan for v in (a, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (a - b) / np.sqrt(se_a**2 + se_b**2)
    return float(2 * norm.sf(abs(z))) if np.isfinite(z) else np.nan


def with_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    """`interaction_p` of every pair of levels (same subgroup and outcome) on both rows of the pair."""
    out = frame.copy()
    out["interaction_p"] = np.nan
    for _, pair in out.groupby(["subgroup", "outcome"], sort=False):
        if len(pair) != 2:  # every subgroup of SUBGROUPS has two levels: one pair
            continue
        (i, a), (j, b) = pair.iterrows()
        p = interaction_p(float(a["estimate"]), float(a["se"]), float(b["estimate"]), float(b["se"]),
                          a["measure"] == "hazard_ratio")
        out.loc[[i, j], "interaction_p"] = p
    return out
