"""Durable response bootstrap (SAP 4.2 version 2): the weighted Turnbull NPMLE, the resampling of patients by
pattern counts against a slow direct resampling of the rows, the intervals against their formulas, the
tables and gaps, and a coverage sanity check on data with a known survival curve."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from pipeline.survival.turnbull import turnbull
from pipeline.survival.turnbull_bootstrap import (
    arm_rng,
    bootstrap_survival,
    difference_interval,
    loglog_interval,
    patterns,
    resample_counts,
    resample_rows,
    survival_at,
)

DAYS = [365, 730, 1826]
VISITS = np.array([42, 91, 182, 365, 730, 1095, 1461, 1826])


def durable_like(n: int, seed: int, scale: float = 1500.0) -> tuple[np.ndarray, np.ndarray]:
    """Interval-censored rows shaped like the durable-response data set: visits near the SAP's target days,
    some missed; failure T ~ exponential(scale) observed in (last good visit, first visit after T]; a few
    exact failures (reinterventions); right-censored at the last good visit."""
    rng = np.random.default_rng(seed)
    days = np.sort(np.clip(np.rint(VISITS + rng.normal(0, 20, (n, VISITS.size))), 14, 2008), axis=1)
    seen = rng.random((n, VISITS.size)) < 0.7
    t = rng.exponential(scale, n)
    left, right, done = np.zeros(n), np.full(n, np.nan), np.zeros(n, bool)
    exact = rng.random(n) < 0.1
    for j in range(VISITS.size):
        s = seen[:, j] & ~done
        bad = s & (t <= days[:, j])
        right[bad & exact] = left[bad & exact] = np.ceil(t[bad & exact])
        right[bad & ~exact] = days[bad & ~exact, j]
        done |= bad
        left[s & ~bad] = days[s & ~bad, j]
    return left, right


def test_weighted_npmle_equals_the_npmle_of_the_expanded_rows():
    left, right = durable_like(300, 1)
    pat = patterns(left, right)
    weights = np.random.default_rng(2).integers(1, 5, pat.left.size)
    expanded = np.repeat(np.arange(pat.left.size), weights)
    a = turnbull(pat.left, pat.right, weights=weights)
    b = turnbull(pat.left[expanded], pat.right[expanded])
    assert np.array_equal(a.time, b.time)
    np.testing.assert_allclose(a.mass, b.mass, atol=1e-12)
    assert a.n == b.n == weights.sum()
    # and the patterns with their counts give the fit of the rows themselves
    c = turnbull(left, right)
    np.testing.assert_allclose(turnbull(pat.left, pat.right, weights=pat.counts).surv_at(DAYS), c.surv_at(DAYS),
                               atol=1e-12)


def test_fast_bootstrap_equals_a_slow_resampling_of_the_patient_rows():
    left, right = durable_like(250, 3)
    pat = patterns(left, right)
    fast = bootstrap_survival(pat, DAYS, 15, arm_rng(99, 0))
    rng = arm_rng(99, 0)  # the same draws, resampling the rows themselves
    for r in range(15):
        rows = resample_rows(rng, left.size)
        slow = turnbull(left[rows], right[rows]).surv_at(DAYS)
        np.testing.assert_allclose(fast[r], slow, atol=1e-12)
    assert np.all(np.std(fast, axis=0) > 0)


def test_resample_counts_are_the_pattern_copies_of_the_rows():
    left, right = durable_like(200, 4)
    pat = patterns(left, right)
    rows = resample_rows(np.random.default_rng(5), pat.n)
    counts = resample_counts(pat, rows)
    assert counts.sum() == pat.n
    for u in np.flatnonzero(counts)[:20]:
        same = (left[rows] == pat.left[u]) & ((right[rows] == pat.right[u])
                                              | (np.isnan(right[rows]) & np.isnan(pat.right[u])))
        assert same.sum() == counts[u]
    assert survival_at(pat, pat.counts, DAYS).shape == (3,)


def test_patterns_are_the_distinct_rows_in_lexicographic_order():
    """`patterns` groups by the ranks of each bound; the reference is numpy's row-wise unique of the pairs
    (the previous implementation), on durable-like rows plus non-integer, left-censored and infinite bounds."""
    left, right = durable_like(400, 12)
    left = np.concatenate([left, [np.nan, np.nan, 2.5, 2.5, 7.0, 0.0]])
    right = np.concatenate([right, [30.0, 30.0, 3.25, np.inf, np.nan, 0.0]])
    pat = patterns(left, right)
    key = np.column_stack([np.nan_to_num(left, nan=-1.0), np.nan_to_num(np.where(np.isinf(right), np.nan, right),
                                                                        nan=-1.0)])
    unique, index, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(np.nan_to_num(pat.left, nan=-1.0), unique[:, 0])
    np.testing.assert_array_equal(np.nan_to_num(pat.right, nan=-1.0), unique[:, 1])
    np.testing.assert_array_equal(pat.counts, counts)
    np.testing.assert_array_equal(pat.index, index.ravel())


def test_reproducible_by_seed_and_arms_have_their_own_streams():
    left, right = durable_like(150, 6)
    pat = patterns(left, right)
    a = bootstrap_survival(pat, DAYS, 5, arm_rng(7, 0))
    assert np.array_equal(a, bootstrap_survival(pat, DAYS, 5, arm_rng(7, 0)))
    assert not np.array_equal(a, bootstrap_survival(pat, DAYS, 5, arm_rng(8, 0)))
    assert not np.array_equal(a, bootstrap_survival(pat, DAYS, 5, arm_rng(7, 1)))


def test_loglog_interval_is_the_normal_interval_of_log_minus_log():
    rng = np.random.default_rng(8)
    estimate = np.array([0.8, 0.5, 0.2])
    reps = np.clip(estimate + rng.normal(0, 0.03, (200, 3)), 0.01, 0.99)
    lower, upper, sd = loglog_interval(estimate, reps, 0.95)
    for j, s in enumerate(estimate):
        eta = np.log(-np.log(s))
        v = np.log(-np.log(reps[:, j]))
        expected_sd = np.sqrt(np.sum((v - v.mean()) ** 2) / (v.size - 1))
        z = norm.ppf(0.975)
        assert sd[j] == pytest.approx(expected_sd, rel=1e-12)
        assert lower[j] == pytest.approx(np.exp(-np.exp(eta + z * expected_sd)), rel=1e-12)
        assert upper[j] == pytest.approx(np.exp(-np.exp(eta - z * expected_sd)), rel=1e-12)
        assert lower[j] < s < upper[j]


def test_degenerate_bootstrap_gives_no_interval():
    estimate = np.array([1.0, 0.6, 0.6, 0.0])
    reps = np.tile(estimate, (30, 1))
    reps[:, 1] += np.linspace(-0.05, 0.05, 30)  # spread: fine
    reps[3, 1] = 1.0  # ...but one resample at 1: log(-log) infinite
    reps[:, 1] = np.where(np.arange(30) == 3, 1.0, reps[:, 1])
    lower, upper, sd = loglog_interval(estimate, reps)
    assert np.all(np.isnan(lower)) and np.all(np.isnan(upper)) and np.all(np.isnan(sd))
    reps[3, 1] = 0.6
    lower, _, _ = loglog_interval(estimate, reps)
    assert np.isnan(lower[[0, 2, 3]]).all() and not np.isnan(lower[1])  # S = 1, no spread, S = 0
    assert np.isnan(loglog_interval(np.array([0.5]), np.array([[0.4]]))[0]).all()  # one resample


def test_difference_interval_is_estimate_plus_minus_z_sd():
    rng = np.random.default_rng(9)
    t, c = rng.normal(0.4, 0.02, 200), rng.normal(0.3, 0.03, 200)
    lower, upper, sd = difference_interval(0.1, t, c, 0.95)
    assert sd == pytest.approx(np.std(t - c, ddof=1), rel=1e-12)
    assert (lower, upper) == pytest.approx((0.1 - norm.ppf(0.975) * sd, 0.1 + norm.ppf(0.975) * sd), rel=1e-12)
    assert np.isnan(difference_interval(0.0, np.full(5, 0.5), np.full(5, 0.5))[0])


def test_coverage_on_data_with_a_known_curve():
    """Sanity, not precision: with T exponential (known S(t)), the 95% log(-log) bootstrap CI at day 730
    covers the truth in most of 20 seeded studies of 200 patients (40 resamples each): a 95% interval
    covers 15 or more of 20 with probability > 0.999. (A larger study: benchmarks/durable_bootstrap.py.)"""
    truth = np.exp(-730 / 1500.0)
    covered = 0
    for study in range(20):
        left, right = durable_like(200, 100 + study)
        pat = patterns(left, right)
        s = survival_at(pat, pat.counts, [730])
        lower, upper, _ = loglog_interval(s, bootstrap_survival(pat, [730], 40, arm_rng(study, 0)))
        covered += bool(lower[0] <= truth <= upper[0])
    assert covered >= 15, covered


# --- The durability tables, gaps and results.json members, on a small hand-made staging world. ---

from pipeline.estimable import read_gaps  # noqa: E402
from pipeline.reporting import results_json  # noqa: E402
from pipeline.reporting.suppression import Suppressor  # noqa: E402
from pipeline.study import load_study  # noqa: E402
from pipeline.survival import gaps as g  # noqa: E402
from tests.test_survival_estimable import con, durability, patients  # noqa: E402, F401  (con: fixture)

FEW = load_study(overrides="survival.durable_response_bootstrap_resamples = 40")


def _table(c, name: str):
    return c.execute(f"SELECT * FROM durability.{name} ORDER BY ALL").df()


def test_tables_carry_the_bootstrap_ci_and_the_difference(con):  # noqa: F811
    patients(con, "treatment", 40, reintervention_every=3)
    patients(con, "comparator", 45, reintervention_every=5)
    durability(con, FEW)
    t = _table(con, "durable_response_turnbull")
    assert (t["resamples"] == 40).all() and t["ci_lower"].notna().all()
    assert ((t["ci_lower"] < t["probability"]) & (t["probability"] < t["ci_upper"])).all()
    # the table's CI is the module's, from the arm's own stream
    data = con.execute("SELECT arm, left_day, right_day FROM durability.durable_response_dataset WHERE included").df()
    for position, role in enumerate(("treatment", "comparator")):
        d = data[data["arm"] == role]
        pat = patterns(d["left_day"].to_numpy(float), d["right_day"].astype(float).to_numpy())
        reps = bootstrap_survival(pat, FEW.durable_response_days, 40,
                                  arm_rng(FEW.durable_response_bootstrap_seed, position))
        rows = t[t["arm"] == role].sort_values("day")
        lower, upper, _ = loglog_interval(rows["probability"].to_numpy(), reps)
        np.testing.assert_allclose(rows["ci_lower"], lower, rtol=1e-12)
        np.testing.assert_allclose(rows["ci_upper"], upper, rtol=1e-12)
        if role == "treatment":
            reps_t, s_t = reps[:, -1], rows["probability"].iloc[-1]
        else:
            reps_c, s_c = reps[:, -1], rows["probability"].iloc[-1]
    diff = _table(con, "durable_response_difference")
    assert len(diff) == 1 and diff["day"].iloc[0] == 1826
    assert diff["estimate"].iloc[0] == pytest.approx(s_t - s_c, abs=1e-12)
    lower, upper, sd = difference_interval(s_t - s_c, reps_t, reps_c)
    assert (diff["ci_lower"].iloc[0], diff["ci_upper"].iloc[0], diff["se"].iloc[0]) == pytest.approx((lower, upper, sd))
    # same seed, same tables
    durability(con, FEW)
    assert _table(con, "durable_response_turnbull").equals(t)
    # results.json members
    population = results_json.population_counts(con, FEW)
    s = Suppressor(FEW.suppression_threshold)
    rows = results_json._durable(con, FEW, s, population)
    assert all(r["ci"] is not None and r["ci"][0] < r["probability"] < r["ci"][1] for r in rows)
    member = results_json._durable_difference(con, FEW, s, population)
    assert member == {"day": 1826, "estimate": pytest.approx(s_t - s_c), "ci": [pytest.approx(lower),
                                                                                pytest.approx(upper)]}


def test_no_resamples_and_too_few_patients_are_gaps_not_errors(con):  # noqa: F811
    patients(con, "treatment", 8, reintervention_every=3)
    patients(con, "comparator", 30, reintervention_every=5)
    durability(con, FEW)
    gaps = {gap.what: gap.reason for gap in read_gaps(con)}
    assert gaps["durable_response[MILD].ci"] == g.too_few(FEW.suppression_threshold)
    assert gaps["durable_response_difference"] == g.too_few(FEW.suppression_threshold)
    assert _table(con, "durable_response_turnbull").query("arm == 'treatment'")["ci_lower"].isna().all()
    assert _table(con, "durable_response_difference").empty
    off = load_study(overrides="survival.durable_response_bootstrap_resamples = 0")
    patients(con, "treatment", 30, reintervention_every=3, prefix="more")
    durability(con, off)
    gaps = {gap.what: gap.reason for gap in read_gaps(con)}
    assert gaps["durable_response[MILD].ci"] == gaps["durable_response[LAMINECTOMY].ci"] == g.BOOTSTRAP_OFF
    assert gaps["durable_response_difference.ci"] == g.BOOTSTRAP_OFF
    diff = _table(con, "durable_response_difference")
    assert diff["estimate"].notna().all() and diff["ci_lower"].isna().all()
