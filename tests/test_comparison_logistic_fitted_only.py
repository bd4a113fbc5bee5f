"""A logistic fit asked for fitted values only (the SAP 3.1 attendance models) stops one Newton iteration
earlier than the full fit and lands on the same maximum: against statsmodels' GLM, as the full fit is."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from pipeline.comparison.logistic import logistic_mle


def _data(seed: int, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 6)), rng.random(n) < 0.3])
    eta = x @ np.array([0.3, 0.8, -0.5, 0.2, 0.0, 0.4, -0.7, 1.1])
    return x, (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)


def test_fitted_only_saves_an_iteration_and_reaches_the_same_maximum():
    for seed in (1, 2, 3):
        x, y = _data(seed)
        full, quick = logistic_mle(x, y), logistic_mle(x, y, covariance=False)
        glm = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-12)
        assert quick.converged and quick.iterations == full.iterations - 1
        np.testing.assert_allclose(quick.coef, glm.params, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(quick.fitted, glm.fittedvalues, rtol=1e-9)
        assert np.isnan(quick.cov).all()  # no covariance: the last information is not at the estimate
