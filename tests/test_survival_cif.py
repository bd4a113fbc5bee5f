"""Cumulative incidence of reintervention with death as competing risk (SAP 4.1): the deterministic
Aalen–Johansen estimator agrees with R's multi-state survfit(Surv(time, factor(status)) ~ 1), handles events
of both kinds on the same day in one step, and gives the same answer however the rows are ordered."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.survival import aalen_johansen, kaplan_meier
from tests.reference import ESTIMATE_ATOL, data, reference, values

ARMS = ("0", "1")
DAYS = (365, 730, 1095, 1461, 1826)


def arm_fit(arm: str):
    frame = data("generated_competing")
    rows = frame[frame["arm"] == int(arm)]
    return aalen_johansen(rows["time"], rows["status"], causes=2), reference("generated")["aj"][arm]


@pytest.mark.parametrize("arm", ARMS)
def test_cumulative_incidence_matches_r_multistate_survfit(arm):
    cif, r = arm_fit(arm)
    idx = np.searchsorted(cif.time, values(r["time"]))
    np.testing.assert_allclose(cif.incidence[idx, 0], values(r["cif_reint"]), atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(cif.incidence[idx, 1], values(r["cif_death"]), atol=ESTIMATE_ATOL)
    np.testing.assert_array_equal(cif.table.n_at_risk[idx], values(r["n_risk"]))


@pytest.mark.parametrize("arm", ARMS)
def test_reporting_days_match_r_summary_times(arm):
    cif, r = arm_fit(arm)
    incidence, _ = cif.at(DAYS)
    np.testing.assert_allclose(incidence[:, 0], values(r["at_cif_reint"]), atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(incidence[:, 1], values(r["at_cif_death"]), atol=ESTIMATE_ATOL)


def test_the_states_add_up_to_one():
    cif, _ = arm_fit("1")
    np.testing.assert_allclose(cif.event_free + cif.incidence.sum(axis=1), 1.0, atol=1e-12)


def test_shuffling_the_rows_changes_nothing():
    frame = data("generated_competing")
    a = aalen_johansen(frame["time"], frame["status"])
    shuffled = frame.sample(frac=1.0, random_state=3)
    b = aalen_johansen(shuffled["time"], shuffled["status"])
    np.testing.assert_array_equal(a.incidence, b.incidence)


def test_tied_event_and_competing_event_share_one_step():
    # Day 10: one reintervention and one death among 4 at risk; each takes 1/4 of the mass.
    cif = aalen_johansen([10, 10, 20, 30], [1, 2, 1, 0])
    incidence, at_risk = cif.at([10])
    np.testing.assert_allclose(incidence[0], [0.25, 0.25])
    assert at_risk[0] == 4


def test_without_competing_events_it_is_one_minus_km():
    frame = data("rossi")
    cif = aalen_johansen(frame["week"], frame["arrest"], causes=1)
    km = kaplan_meier(frame["week"], frame["arrest"])
    np.testing.assert_allclose(cif.incidence[:, 0], 1 - km.surv, atol=1e-12)


def test_cumulative_incidence_is_below_one_minus_km_that_censors_deaths():
    frame = data("generated_competing")
    cif = aalen_johansen(frame["time"], frame["status"])
    km = kaplan_meier(frame["time"], (frame["status"] == 1).astype(int))
    assert np.all(cif.incidence[:, 0] <= 1 - km.surv + 1e-12)


def _variance_by_definition(time, status):
    """Collett's delta-method variance of F_1, summed term by term at every time (the O(n²) definition)."""
    t, s = np.asarray(time, float), np.asarray(status)
    times = np.unique(t)
    y = np.array([(t >= u).sum() for u in times], float)
    d = np.array([((t == u) & (s > 0)).sum() for u in times], float)
    d1 = np.array([((t == u) & (s == 1)).sum() for u in times], float)
    surv = np.cumprod(1 - d / y)
    before = np.concatenate([[1.0], surv[:-1]])
    f = np.cumsum(before * d1 / y)
    out = []
    for j in range(times.size):
        i = np.arange(j + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.where(d[i] > 0, (f[j] - f[i]) ** 2 * d[i] / (y[i] * (y[i] - d[i])), 0.0).sum()
        second = (before[i] ** 2 * d1[i] * (y[i] - d1[i]) / y[i] ** 3).sum()
        third = ((f[j] - f[i]) * before[i] * d1[i] / y[i] ** 2).sum()
        out.append(first + second - 2 * third)
    return np.array(out)


def test_variance_is_collett_delta_method_formula_with_ties():
    rng = np.random.default_rng(5)
    time = rng.integers(1, 60, 400)  # many ties, both causes on one day
    status = rng.choice([0, 1, 2], 400, p=[0.5, 0.3, 0.2])
    fit = aalen_johansen(time, status, causes=2)
    expected = _variance_by_definition(time, status)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(fit.variance(1)[finite], expected[finite], rtol=1e-9, atol=1e-15)


def test_variance_and_ci_match_lifelines_without_ties():
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(1)
    time = rng.exponential(10, 300)  # continuous: lifelines jitters nothing
    status = rng.choice([0, 1, 2], 300, p=[0.4, 0.35, 0.25])
    fit = aalen_johansen(time, status, causes=2)
    ref = AalenJohansenFitter(calculate_variance=True).fit(time, status, event_of_interest=1)
    np.testing.assert_allclose(fit.variance(1), ref.variance_.reindex(fit.time).to_numpy(), atol=1e-14)
    lower, upper = fit.confidence_interval(1)
    shown = np.isfinite(lower)
    assert shown.sum() > 250
    bounds = np.sort(ref.confidence_interval_.reindex(fit.time[shown]).to_numpy(), axis=1)
    np.testing.assert_allclose(np.column_stack([lower[shown], upper[shown]]), bounds, atol=1e-12)
    assert np.all(lower[shown] <= fit.incidence[shown, 0]) and np.all(fit.incidence[shown, 0] <= upper[shown])
