"""Simulations with known truth (exponential times, seeded): the estimators are centred on the truth and their
95% intervals cover it about 95% of the time, which no comparison with R can show."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.survival import aalen_johansen, cox_efron, kaplan_meier, rmst, turnbull

RATE = 1 / 1000  # exponential event rate per day
T = 500.0
REPLICATES = 300


def exponential_sample(rng: np.random.Generator, n: int, rate: float = RATE) -> tuple[np.ndarray, np.ndarray]:
    """Event times rounded up to whole days (ties, as in the registry), uniform censoring on (0, 3000)."""
    event_time = np.ceil(rng.exponential(1 / rate, n))
    censor = np.ceil(rng.uniform(0, 3000, n))
    return np.minimum(event_time, censor), (event_time <= censor).astype(int)


def coverage(hits: list[bool]) -> float:
    return float(np.mean(hits))


def test_km_ci_contains_the_true_survival():
    rng = np.random.default_rng(1)
    km = kaplan_meier(*exponential_sample(rng, 2000))
    at = km.at([T])
    assert at.lower[0] <= np.exp(-RATE * T) <= at.upper[0]


def test_km_loglog_ci_covers_the_truth_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    truth = np.exp(-RATE * T)
    hits = []
    for _ in range(REPLICATES):
        at = kaplan_meier(*exponential_sample(rng, 300)).at([T])
        hits.append(at.lower[0] <= truth <= at.upper[0])
    assert 0.92 <= coverage(hits) <= 0.98


def test_rmst_ci_covers_the_truth_95_percent_of_the_time():
    rng = np.random.default_rng(3)
    tau = 1500.0
    truth = (1 - np.exp(-RATE * tau)) / RATE
    hits = []
    for _ in range(REPLICATES):
        lo, hi = rmst(kaplan_meier(*exponential_sample(rng, 300)), tau).ci()
        hits.append(lo <= truth <= hi)
    assert 0.92 <= coverage(hits) <= 0.98


def test_cox_hazard_ratio_ci_covers_the_truth_95_percent_of_the_time():
    rng = np.random.default_rng(4)
    hazard_ratio = 0.6
    hits = []
    for _ in range(REPLICATES // 2):
        t0, e0 = exponential_sample(rng, 200)
        t1, e1 = exponential_sample(rng, 200, RATE * hazard_ratio)
        fit = cox_efron(np.r_[t0, t1], np.r_[e0, e1], np.r_[np.zeros(200), np.ones(200)])
        lower, upper = fit.ci()
        hits.append(lower[0] <= hazard_ratio <= upper[0])
    assert 0.90 <= coverage(hits) <= 0.99


def test_cumulative_incidence_is_centred_on_the_competing_risks_truth():
    rng = np.random.default_rng(5)
    n, rate_reint, rate_death = 20_000, 1 / 2000, 1 / 4000
    reint, death = rng.exponential(1 / rate_reint, n), rng.exponential(1 / rate_death, n)
    censor = rng.uniform(0, 3000, n)
    time = np.ceil(np.minimum(np.minimum(reint, death), censor))
    status = np.where(reint <= np.minimum(death, censor), 1, np.where(death <= censor, 2, 0))
    incidence, _ = aalen_johansen(time, status).at([T, 1500])
    total = rate_reint + rate_death
    truth = rate_reint / total * (1 - np.exp(-total * np.array([T, 1500])))
    np.testing.assert_allclose(incidence[:, 0], truth, atol=0.01)


def test_turnbull_recovers_the_survival_seen_only_at_visits():
    rng = np.random.default_rng(6)
    n, visits = 5000, np.array([42, 91, 182, 365, 730, 1095, 1461, 1826])
    fail = rng.exponential(1 / RATE, n)
    seen = visits[None, :] + rng.integers(-20, 21, (n, visits.size))
    k = (seen < fail[:, None]).sum(axis=1)  # visits passed while still responding
    rows = np.arange(n)
    left = np.where(k == 0, 0.0, seen[rows, np.maximum(k - 1, 0)])
    right = np.where(k == visits.size, np.nan, seen[rows, np.minimum(k, visits.size - 1)])
    estimate = turnbull(left, right).surv_at([365, 730, 1461])
    np.testing.assert_allclose(estimate, np.exp(-RATE * np.array([365, 730, 1461])), atol=0.02)


@pytest.mark.parametrize("variance", ["robust", "xie-liu"])
def test_weighted_km_ci_covers_the_truth_with_non_integer_weights(variance):
    rng = np.random.default_rng(7)
    truth = np.exp(-RATE * T)
    hits = []
    for _ in range(REPLICATES):
        time, event = exponential_sample(rng, 300)
        weights = rng.uniform(0.2, 3.0, time.size)
        at = kaplan_meier(time, event, weights, variance=variance).at([T])
        hits.append(at.lower[0] <= truth <= at.upper[0])
    assert 0.92 <= coverage(hits) <= 0.99
