"""Variances of the case-weighted Kaplan–Meier estimator (weights from a propensity model, SAP section 6).

Greenwood's formula with weighted counts (what lifelines' KaplanMeierFitter(weights=...) and R's survfit
with integer weights report) reads a weight of 3 as three patients; for propensity weights, which are
neither frequencies nor known sample sizes, that misstates the information and the CIs are wrong (too
narrow for weights above 1, too wide below). Two correct alternatives, both on data aggregated by time:

* "robust": the infinitesimal-jackknife (sandwich) variance, sum over patients of (w_i ∂S(t)/∂w_i)², which is
  what R's survfit computes for non-integer weights (robust = TRUE). Checked against R.
* "xie-liu": Xie & Liu (2005, Stat Med 24:3089) — Greenwood with the effective number at risk
  M_j = (Σ w)² / Σ w² over the risk set: Var log S(t) = Σ_{t_j ≤ t} d_j / (M_j (Y_j − d_j)), with weighted
  deaths d_j and weighted risk set Y_j (SAS PROC LIFETEST's WEIGHT statement). With unit weights it is
  Greenwood's formula exactly.

Both treat the weights as fixed: they ignore that the propensity score was estimated, which for IPT weights
tends to make them conservative (Zhang, Shao & Ye 2025).
"""

from __future__ import annotations

import numpy as np

from pipeline.survival.risktable import RiskTable


def xie_liu_var_log(table: RiskTable) -> np.ndarray:
    """Xie & Liu's variance of log S(t) at each row of the table (inf where S has reached 0)."""
    d, y = table.events_any(), table.at_risk
    effective = y * y / table.w2_at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.cumsum(np.where(d > 0, d / (effective * (y - d)), 0.0))


def robust_var_log(table: RiskTable, surv: np.ndarray) -> np.ndarray:
    """Infinitesimal-jackknife variance of log S(t), i.e. Var S(t) / S(t)², as R's survfit(robust = TRUE).

    The influence of patient k (weight w_k, time T_k, event δ_k) on S(t), divided by S(t), is
        w_k [C(min(T_k, t)) − δ_k 1{T_k ≤ t} / (Y(T_k) − d(T_k))],   C(u) = Σ_{s ≤ u} h(s) / (Y(s) − d(s)),
    with h = d / Y. Patients sharing a time and status share the bracket, so the sum of squares needs only
    the per-time sums of squared weights: for the curve at row i,
        Σ_{j ≤ i} [w2_cens_j C_j² + w2_event_j (C_j − 1/(Y_j − d_j))²] + w2_later_i C_i²,
    where w2_later_i sums w² over patients with time > t_i (still at risk, no event yet).
    """
    d, y = table.events_any(), table.at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(d > 0, (d / y) / (y - d), 0.0)
        c = np.cumsum(step)
        jump = np.where(d > 0, 1.0 / (y - d), 0.0)
        here = table.w2_censored * c**2 + table.w2_events.sum(axis=1) * (c - jump) ** 2
        later = np.append(table.w2_at_risk[1:], 0.0)
        return np.cumsum(here) + later * c**2


def km_hazard_pieces(table: RiskTable) -> tuple[np.ndarray, np.ndarray]:
    """(C, jump) per curve time: the pieces of a patient's influence on log S of the (weighted) KM curve.
    A patient of weight w at curve time m, event δ, moves log S(t_j) by
        w [C_{min(m, j)} − δ 1{m ≤ j} jump_m],   C_j = Σ_{i ≤ j} d_i / (Y_i (Y_i − d_i)),   jump_m = 1 / (Y_m − d_m)
    (d: weighted events of any cause, Y: weighted number at risk). Where Y = d (everybody left has the event,
    the curve drops to 0) the log is −inf; both pieces are set to 0 there, which is right for everything
    multiplied by S afterwards (S = 0 from that time on, and that patient's influence on S is 0 there)."""
    d, y = table.events_any(), table.at_risk
    room = y - d
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where((d > 0) & (room > 0), d / (y * room), 0.0)
        jump = np.where(room > 0, 1.0 / room, 0.0)
    return np.cumsum(step), jump
