"""Random-effects pooling of per-site estimates (SAP 6, site heterogeneity), as R's
`metafor::rma(yi, vi, method = "REML", test = "knha")` and its `predict()` (metafor 3.8; tested against stored
values of that call, tests/reference/make_heterogeneity.R).

- τ² by REML, with metafor's algorithm: start at the Hedges (HE) estimate truncated at 0, then Fisher scoring
  τ² ← τ² + (Y'PPY − tr P) / tr(PP), P = W − W1(1'W1)⁻¹1'W, W = diag(1/(vᵢ + τ²)), each step halved until
  τ² stays ≥ 0; stop when a step changes τ² by at most `threshold`. metafor's default threshold is 1e-5; we
  iterate to 1e-10 (same algorithm, a more exact root); `threshold=1e-5` reproduces metafor's default output.
  metafor's safeguard is kept: when the log-likelihood at τ² = 0 beats the one found by more than
  ε^¼ (a local maximum), τ² = 0.
- pooled estimate μ̂ = Σwᵢyᵢ / Σwᵢ, wᵢ = 1/(vᵢ + τ²).
- Hartung–Knapp–Sidik–Jonkman: Var(μ̂) = s² / Σwᵢ with s² = Σwᵢ(yᵢ − μ̂)² / (k − 1), CI with t on k − 1 df.
  As metafor's `test = "knha"`, s² is NOT truncated at 1 (the "ad hoc" variant would be `test = "adhoc"`),
  so the HKSJ interval can be narrower than the plain z interval when the sites agree more than their
  variances say.
- I² = τ² / (τ² + ṽ) with the typical within-site variance ṽ = (k − 1) / tr(P₀) = (k − 1) / (Σ1/vᵢ −
  Σ(1/vᵢ)² / Σ1/vᵢ) (Higgins & Thompson 2002; metafor's default i2def), as a proportion (metafor prints %).
- 95% prediction interval for the effect in a new site: μ̂ ± t(k−1) √(Var(μ̂) + τ²), Var(μ̂) the HKSJ variance
  (metafor's predict() on a knha fit).

Pure function of (estimates, variances); no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import t as student_t

from pipeline.estimable import NotEstimable

FEWER_THAN_TWO = "fewer than 2 sites with enough patients in both arms to estimate within the site"
NOT_CONVERGED = "the REML estimate of the between-site variance did not converge"
INVALID_VARIANCE = "a site's estimate has no positive finite variance"
LOCAL_MAXIMUM_TOL = float(np.finfo(float).eps) ** 0.25  # metafor's con$tol


@dataclass(frozen=True)
class Pooled:
    k: int
    estimate: float
    se: float  # HKSJ standard error of the pooled estimate
    lower: float
    upper: float
    tau2: float
    i2: float  # proportion, 0 … 1
    typical_variance: float
    pi_lower: float
    pi_upper: float
    df: int
    iterations: int


def _reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """The REML log-likelihood of the intercept-only model (up to metafor's constant, which cancels)."""
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    return -0.5 * float(np.sum(np.log(v + tau2))) - 0.5 * math.log(float(np.sum(w))) \
        - 0.5 * float(np.sum(w * (y - mu) ** 2))


def reml_tau2(y: np.ndarray, v: np.ndarray, threshold: float = 1e-10, max_iter: int = 1000) -> tuple[float, int]:
    """(τ², iterations) by metafor's Fisher scoring; NotEstimable when it does not converge."""
    k = y.size
    # Hedges (HE) start: (Σ(y − ȳ)² − Σv (1 − 1/k)) / (k − 1), truncated at 0 as metafor does for REML.
    tau2 = max(0.0, (float(np.sum((y - y.mean()) ** 2)) - float(np.sum(v)) * (1 - 1 / k)) / (k - 1))
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        w = 1.0 / (v + tau2)
        sw = float(np.sum(w))
        # P = W − w wᵀ / Σw (intercept only); Py = w ∘ (y − μ̂); tr P = Σw − Σw²/Σw; tr(PP) = ΣP²ᵢⱼ (P symmetric).
        py = w * (y - float(np.sum(w * y)) / sw)
        p = np.diag(w) - np.outer(w, w) / sw
        step = (float(py @ py) - float(np.trace(p))) / float(np.sum(p * p))
        if not math.isfinite(step):
            raise NotEstimable(NOT_CONVERGED)
        while tau2 + step < 0:  # metafor: halve the step until τ² stays ≥ 0 (underflows to 0 at the boundary)
            step /= 2
        old, tau2 = tau2, tau2 + step
        if abs(tau2 - old) <= threshold:
            break
    else:
        raise NotEstimable(NOT_CONVERGED)  # metafor: "Fisher scoring algorithm did not converge"
    if tau2 > threshold and _reml_loglik(y, v, 0.0) - _reml_loglik(y, v, tau2) > LOCAL_MAXIMUM_TOL:
        tau2 = 0.0  # metafor's ll0check: stuck at a local maximum below the one at the boundary
    return max(0.0, tau2), iterations


def random_effects(estimates: ArrayLike, variances: ArrayLike, level: float = 0.95,
                   threshold: float = 1e-10) -> Pooled:
    """REML random-effects pooling with the HKSJ CI, τ², I² and the prediction interval (module docstring).

    Raises NotEstimable (plain reason) with fewer than 2 estimates or a variance that is not positive and
    finite. With exactly 2, every number is defined (t on 1 df: 12.71 at 95%), and very wide by construction.
    """
    y = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    if y.size != v.size:
        raise ValueError("estimates and variances differ in length")
    if y.size < 2:
        raise NotEstimable(FEWER_THAN_TWO)
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise NotEstimable(INVALID_VARIANCE)
    k = y.size
    tau2, iterations = reml_tau2(y, v, threshold)
    w = 1.0 / (v + tau2)
    sw = float(np.sum(w))
    mu = float(np.sum(w * y) / sw)
    rss = float(np.sum(w * (y - mu) ** 2))
    s2 = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)  # metafor: RSS ≤ ε → s² = 0
    var_mu = s2 / sw
    se = math.sqrt(var_mu)
    crit = float(student_t.ppf(0.5 + level / 2, k - 1))
    w0 = 1.0 / v
    typical = (k - 1) / (float(np.sum(w0)) - float(np.sum(w0**2)) / float(np.sum(w0)))
    i2 = tau2 / (typical + tau2)
    half_pi = crit * math.sqrt(var_mu + tau2)
    return Pooled(k, mu, se, mu - crit * se, mu + crit * se, tau2, i2, typical, mu - half_pi, mu + half_pi,
                  k - 1, iterations)
