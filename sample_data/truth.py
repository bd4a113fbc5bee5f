"""Ground truth computed from the generating model (never estimated from the generated rows).

Per arm: the mean over the generated patients of each patient's expected value given everything drawn
at patient level (covariates, baseline values, response effect z), integrating only over visit-level
noise. Loss to follow-up, withdrawal, missed visits and the data cut are ignored: they are independent of
outcomes given the arm (death depends on age, which no outcome model uses).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from sample_data import model as M
from sample_data.cohort import Cohort
from sample_data.followup import complication_prob, reintervention_lp, rta_mu, same_day_prob
from sample_data.pros import latent_mean, satisfaction_eta

SURVIVAL_DAYS = (365, 730, 1095, 1461, 1826)
RECOVERY_DAYS = (14, 28)
RESPONDER_POINTS = 10


def expected_rounded(m: np.ndarray, sd: float, low: int = 0, high: int = 100) -> np.ndarray:
    """E[round(clip(X, low, high))] for X ~ N(m, sd) = low + sum_k P(X >= k - 0.5), k = low+1..high.

    Evaluated exactly on a grid of m (step 0.005) and interpolated linearly: the function is smooth with
    a second derivative below 1/sd, so the error is under 1e-6.
    """
    grid = np.arange(np.floor(m.min()) - 1, np.ceil(m.max()) + 1.005, 0.005)
    ks = np.arange(low + 1, high + 1)
    values = low + ndtr((grid[:, None] - ks[None, :] + 0.5) / sd).sum(axis=1)
    return np.interp(m, grid, values)


def _odi(cohort: Cohort, visit: str, mild: float) -> tuple[np.ndarray, np.ndarray]:
    """Per patient: expected ODI change and P(improvement >= 10) at a visit, had the arm been `mild`."""
    sd = M.PRO_CHANGE["ODI"]["sd_e"]
    m = latent_mean(cohort, "ODI", visit, mild)
    base = cohort.baseline["ODI"]
    change = expected_rounded(m, sd) - base
    # round(clip(X)) <= base - 10  <=>  X < base - 9.5 (possible only when base >= 10)
    responder = np.where(base >= RESPONDER_POINTS, ndtr((base - RESPONDER_POINTS + 0.5 - m) / sd), 0.0)
    return change, responder


def _survival(cohort: Cohort, arm: str, day: int) -> np.ndarray:
    p = M.REINTERVENTION[arm]
    return np.exp(-p["scale"] * (day / M.YEAR) ** p["shape"] * np.exp(reintervention_lp(cohort)))


def _hazard(arm: str, day: float) -> float:
    p = M.REINTERVENTION[arm]
    return p["scale"] * p["shape"] * (day / M.YEAR) ** (p["shape"] - 1) / M.YEAR


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.sum(values * weights) / np.sum(weights))


def compute_truth(cohort: Cohort) -> dict:
    odi = {(v, mild): _odi(cohort, v, mild) for v in M.VISITS for mild in (0.0, 1.0)}
    theta = M.SATISFACTION["theta"][1]
    sat = {(v, mild): expit(theta - satisfaction_eta(cohort, v, mild))
           for v in M.VISITS for mild in (0.0, 1.0)}
    arms = {}
    for code, arm in enumerate(M.ARMS):
        sel = cohort.arm == code
        mild = float(code)
        sigma = M.RETURN_TO_ACTIVITY["sigma"]
        arms[arm] = {
            "patients": int(sel.sum()),
            "satisfaction_probability": {v: float(sat[v, mild][sel].mean()) for v in M.VISITS},
            "odi_responder_probability": {v: float(odi[v, mild][1][sel].mean()) for v in M.VISITS},
            "odi_mean_change": {v: float(odi[v, mild][0][sel].mean()) for v in M.VISITS},
            "freedom_from_reintervention": {
                str(d): float(_survival(cohort, arm, d)[sel].mean()) for d in SURVIVAL_DAYS},
            "complication_90d_probability": float(complication_prob(cohort)[sel].mean()),
            "same_day_discharge_probability": float(same_day_prob(cohort)[sel].mean()),
            "return_to_activity_by_day": {
                str(d): float(ndtr((np.log(d) - rta_mu(cohort)[sel]) / sigma).mean()) for d in RECOVERY_DAYS},
        }
    return {"arms": arms, "arm_effects": _arm_effects(cohort, cohort.arm < 2, odi, sat)}


def _arm_effects(cohort: Cohort, sel: np.ndarray, odi: dict, sat: dict) -> dict:
    """Effects of MILD vs laminectomy in the analysis population: the conditional (model) parameters,
    and the average effects on the observed scale over all patients (ATE), the treated (ATT) and the
    overlap-weighted population (weights e(1 - e) from the true propensity e; the SAP's default)."""
    e = cohort.ps[sel]
    treated = (cohort.arm[sel] == 1).astype(float)
    populations = {"ate": np.ones_like(e), "att": treated, "overlap": e * (1 - e)}

    def averages(effect: np.ndarray) -> dict[str, float]:
        return {name: _weighted(effect[sel], w) for name, w in populations.items()}

    ones, zeros = np.ones(cohort.n, np.int8), np.zeros(cohort.n, np.int8)
    survival = {arm: {d: _survival(cohort, arm, d) for d in SURVIVAL_DAYS} for arm in M.ARMS}
    return {
        "odi_change_difference": {
            v: {"latent": M.PRO_CHANGE["ODI"]["tau"][v], **averages(odi[v, 1.0][0] - odi[v, 0.0][0])}
            for v in M.VISITS},
        "odi_responder_risk_difference": {v: averages(odi[v, 1.0][1] - odi[v, 0.0][1]) for v in M.VISITS},
        "satisfaction_risk_difference": {v: averages(sat[v, 1.0] - sat[v, 0.0]) for v in M.VISITS},
        "satisfaction_log_odds_ratio": -M.SATISFACTION["arm"],
        "complication_90d_risk_difference": averages(
            complication_prob(cohort, ones) - complication_prob(cohort, zeros)),
        "complication_log_odds_ratio": (M.COMPLICATION["intercept"]["MILD"]
                                        - M.COMPLICATION["intercept"]["LAMINECTOMY"]),
        "reintervention": {
            "cumulative_hazard": "H(t) = scale * (t / 365.25) ** shape * exp(lp); lp: parameters.REINT_COEF",
            "arms": M.REINTERVENTION,
            "hazard_ratio_by_day": {
                str(d): _hazard("MILD", d) / _hazard("LAMINECTOMY", d) for d in SURVIVAL_DAYS},
            "freedom_by_population": {
                name: {arm: {str(d): _weighted(survival[arm][d][sel], w) for d in SURVIVAL_DAYS}
                       for arm in M.ARMS}
                for name, w in populations.items()},
        },
    }
