"""The logistic fitter reads the rows block by block (pipeline/comparison/logistic.py, _Rows): the information,
score and deviance summed over blocks equal the whole-matrix formulas, and fits over many blocks (a last block
shorter than the others, frequency weights with zeros, a start far off that needs step halving) reach
statsmodels' maximum; the half of the rows evaluated on the worker thread gives the bits it gives in line."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest
import statsmodels.api as sm

from pipeline.comparison import logistic
from pipeline.comparison.logistic import _Rows, logistic_mle


def _data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 4)), rng.random(n) < 0.2])
    eta = x @ np.array([-0.4, 0.9, -0.6, 0.3, 0.0, 1.2])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return np.asfortranarray(x), y, rng.integers(0, 4, n).astype(float)


@pytest.mark.parametrize("block", [1, 7, 1000, 10**6])
def test_blocked_sums_equal_the_whole_matrix_formulas(monkeypatch: pytest.MonkeyPatch, block: int):
    monkeypatch.setattr(logistic, "BLOCK_ROWS", block)
    x, y, fw = _data(1, 2503)
    beta = np.array([0.1, 0.5, -0.2, 0.3, -0.1, 0.7])
    information, score, deviance = _Rows(x, y, fw).evaluate(beta, information=True, deviance=True)
    eta = x @ beta
    mu = 1 / (1 + np.exp(-eta))
    np.testing.assert_allclose(information, x.T @ (x * (fw * mu * (1 - mu))[:, None]), rtol=1e-13)
    np.testing.assert_allclose(score, x.T @ (fw * (y - mu)), rtol=1e-12, atol=1e-11)
    # −2 log L from the fitted probabilities (the fitter works from log(1 + e^η)).
    assert deviance == pytest.approx(-2 * np.sum(fw * (y * np.log(mu) + (1 - y) * np.log(1 - mu))), rel=1e-13)
    rows = _Rows(x, y, fw)
    _, _, eta_only = rows.evaluate(beta, information=False, deviance=False)
    np.testing.assert_allclose(rows.eta, eta, rtol=1e-14, atol=1e-14)
    assert np.isnan(eta_only)


@pytest.mark.parametrize("block", [997, 4096])
def test_fits_over_many_blocks_reach_statsmodels_maximum(monkeypatch: pytest.MonkeyPatch, block: int):
    monkeypatch.setattr(logistic, "BLOCK_ROWS", block)
    halved = []  # evaluations of a halved step: the deviance without the information
    evaluate = _Rows.evaluate

    def spy(rows: _Rows, beta: np.ndarray, information: bool, deviance: bool) -> tuple:
        halved.append(deviance and not information)
        return evaluate(rows, beta, information, deviance)

    monkeypatch.setattr(_Rows, "evaluate", spy)
    x, y, fw = _data(2, 30_011)
    for freq in (None, fw):
        glm = sm.GLM(y, x, family=sm.families.Binomial(), freq_weights=freq).fit(tol=1e-12)
        for start in (None, np.array([2.0, -1.5, 1.5, -1.0, 1.0, -2.0])):  # far off: steps are halved
            halved.clear()
            fit = logistic_mle(x, y, freq_weights=freq, start=start)
            assert fit.converged and any(halved) == (start is not None)
            np.testing.assert_allclose(fit.coef, glm.params, rtol=1e-9, atol=1e-11)
            np.testing.assert_allclose(fit.se, glm.bse, rtol=1e-7)
            np.testing.assert_allclose(fit.fitted, glm.predict(x), rtol=1e-9)


class _Inline:
    """An executor that runs the task at once, in the calling thread."""

    def submit(self, fn, *args):
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def test_the_worker_thread_changes_no_bit(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(logistic, "BLOCK_ROWS", 500)
    x, y, fw = _data(3, 7_777)
    threaded = [logistic_mle(x, y, freq_weights=fw) for _ in range(3)]
    monkeypatch.setattr(logistic, "_worker", lambda: _Inline())
    inline = logistic_mle(x, y, freq_weights=fw)
    for fit in threaded:
        assert fit.iterations == inline.iterations
        for a, b in ((fit.coef, inline.coef), (fit.cov, inline.cov), (fit.fitted, inline.fitted)):
            np.testing.assert_array_equal(a, b)
