"""An independent route to the variance of a propensity-weighted difference that accounts for the estimation of
the propensity model: the stacked estimating equations written out per patient, their derivative matrix by
central differences, and the M-estimation sandwich A⁻¹ B A⁻ᵀ. Shares no code with
pipeline/comparison/ps_variance.py (which uses the closed-form influence function); a test helper, slow on
purpose (dense, patient by patient arrays)."""

from __future__ import annotations

import numpy as np


def _weights(x1: np.ndarray, t: np.ndarray, beta: np.ndarray, scheme: str, fixed: dict) -> np.ndarray:
    e = 1.0 / (1.0 + np.exp(-(x1 @ beta)))
    if scheme == "overlap":
        return np.where(t, 1.0 - e, e)
    if scheme == "att":
        return np.where(t, 1.0, e / (1.0 - e))
    share = t.mean()
    w = np.where(t, share / e, (1.0 - share) / (1.0 - e))
    # ATE: the winsorising bounds and the patients at them are fixed at the fitted model.
    return np.where(fixed["low"], fixed["bounds"][0], np.where(fixed["high"], fixed["bounds"][1], w))


def stacked_variance(x: np.ndarray, treated: np.ndarray, beta: np.ndarray, row: np.ndarray, y: np.ndarray,
                     scheme: str = "overlap", factor: np.ndarray | None = None,
                     truncation: tuple[float, float] = (1.0, 99.0)) -> tuple[float, float, float]:
    """(estimate, M-estimation sandwich variance of μ1 − μ0, weights-fixed HC0 variance). x: n × k covariates
    without intercept; beta: the logistic MLE, intercept first; row/y: the outcome rows (patient, value), at most
    one per patient; factor: a fixed multiplier of each row's weight."""
    t = np.asarray(treated, dtype=bool)
    x1 = np.column_stack([np.ones(t.size), np.asarray(x, dtype=float)])
    f = np.ones(len(y)) if factor is None else np.asarray(factor, dtype=float)
    fixed: dict = {}
    if scheme == "ate":
        e = 1.0 / (1.0 + np.exp(-(x1 @ beta)))
        share = t.mean()
        raw = np.where(t, share / e, (1.0 - share) / (1.0 - e))
        bounds = np.percentile(raw, truncation)
        fixed = {"bounds": bounds, "low": raw < bounds[0], "high": raw > bounds[1]}
    observed = np.zeros(t.size, dtype=bool)
    observed[row] = True
    yy = np.zeros(t.size)
    yy[row] = y
    ff = np.zeros(t.size)
    ff[row] = f
    k = x1.shape[1]

    def psi(theta: np.ndarray) -> np.ndarray:
        b, mu1, mu0 = theta[:k], theta[k], theta[k + 1]
        e = 1.0 / (1.0 + np.exp(-(x1 @ b)))
        w = _weights(x1, t, b, scheme, fixed) * ff
        return np.column_stack([x1 * (t - e)[:, None], observed * t * w * (yy - mu1),
                                observed * ~t * w * (yy - mu0)])

    w = _weights(x1, t, beta, scheme, fixed) * ff
    arm1, arm0 = observed & t, observed & ~t
    mu1 = np.sum(w[arm1] * yy[arm1]) / np.sum(w[arm1])
    mu0 = np.sum(w[arm0] * yy[arm0]) / np.sum(w[arm0])
    theta = np.concatenate([beta, [mu1, mu0]])
    jacobian = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        h = 1e-5 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        jacobian[:, j] = (psi(up).sum(axis=0) - psi(down).sum(axis=0)) / (2 * h)
    values = psi(theta)
    inverse = np.linalg.inv(jacobian)
    v = inverse @ (values.T @ values) @ inverse.T
    hc0 = (np.sum(w[arm1] ** 2 * (yy[arm1] - mu1) ** 2) / np.sum(w[arm1]) ** 2
           + np.sum(w[arm0] ** 2 * (yy[arm0] - mu0) ** 2) / np.sum(w[arm0]) ** 2)
    return float(mu1 - mu0), float(v[k, k] + v[k + 1, k + 1] - 2 * v[k, k + 1]), float(hc0)
