"""The variance of adjusted differences that accounts for the estimation of the propensity model
(pipeline/comparison/ps_variance.py) against two independent routes: R (the stacked estimating equations by
hand, numDeriv's Jacobian: tests/reference/ps_variance.R -> ps_variance.json; PSweight is not installable here)
and the same equations in Python with central differences (tests/stacked_sandwich.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.comparison.propensity import fit_propensity
from pipeline.comparison.ps_variance import (
    corrected_difference,
    propensity_terms,
    variance_corrections,
    weight_derivative,
    with_estimated_weights,
)
from pipeline.comparison.robust import grouped_differences, weighted_difference
from pipeline.comparison.weights import propensity_weights
from tests.stacked_sandwich import stacked_variance

REFERENCE = json.loads((Path(__file__).parent / "reference" / "ps_variance.json").read_text())
SCHEMES = ("overlap", "ate", "att")
OUTCOMES = ("change", "responder")


@pytest.fixture(scope="module")
def data() -> dict:
    d = REFERENCE["data"]
    x = pd.DataFrame({k: np.asarray(d[k], dtype=float) for k in ("x1", "x2", "x3", "site")})
    t = np.asarray(d["treated"], dtype=bool)
    fit = fit_propensity(x, t)
    return {"x": x, "t": t, "fit": fit, "raw": d}


def _outcome(data: dict, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    d = data["raw"]
    rows = np.flatnonzero(np.asarray(d[f"observed_{outcome}"], dtype=bool))
    y = np.asarray(d[f"y_{outcome}"], dtype=float)[rows]
    factor = np.asarray(d["factor_responder"], dtype=float)[rows] if outcome == "responder" else None
    return rows, y, factor


def _ours(data: dict, scheme: str, outcome: str, hc: str = "HC0"):
    t, fit = data["t"], data["fit"]
    w = propensity_weights(fit.score, t, scheme, (1.0, 99.0))
    rows, y, factor = _outcome(data, outcome)
    row_w = w[rows] * (1.0 if factor is None else factor)
    fixed = weighted_difference(y, t[rows], row_w, hc=hc)
    terms = propensity_terms(data["x"], t, fit.score, w, scheme)
    return fixed, corrected_difference(terms, fixed, rows, y, factor, hc=hc)


def test_the_logistic_fit_is_r_s(data):
    assert data["fit"].coef.to_numpy() == pytest.approx(REFERENCE["coef"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_variance_equals_r_stacked_sandwich(data, scheme, outcome):
    r = REFERENCE["results"][scheme][outcome]
    fixed, corrected = _ours(data, scheme, outcome)
    assert corrected.estimate == pytest.approx(r["estimate"], rel=1e-10)
    assert (corrected.mean_treatment, corrected.mean_comparator) == pytest.approx(
        (r["mean_treatment"], r["mean_comparator"]), rel=1e-10)
    # The weights-fixed part (HC0) is still the component robust.py computes.
    assert fixed.se**2 == pytest.approx(r["variance_weights_fixed"], rel=1e-10)
    assert corrected.se**2 == pytest.approx(r["variance"], rel=1e-7)
    assert corrected.lower == pytest.approx(r["estimate"] - 1.959963984540054 * math.sqrt(r["variance"]), rel=1e-7)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_variance_equals_numerical_derivatives_in_python(data, scheme, outcome):
    rows, y, factor = _outcome(data, outcome)
    estimate, var, hc0 = stacked_variance(data["x"].to_numpy(), data["t"], data["fit"].coef.to_numpy(), rows, y,
                                          scheme, factor)
    fixed, corrected = _ours(data, scheme, outcome)
    assert corrected.estimate == pytest.approx(estimate, rel=1e-10)
    assert fixed.se**2 == pytest.approx(hc0, rel=1e-10)
    assert corrected.se**2 == pytest.approx(var, rel=1e-6)


def test_overlap_correction_is_not_negligible(data):
    """On this confounded data set the estimated overlap weights give a smaller variance than fixed weights
    (the conservatism the correction removes): a test that would fail if the correction were a no-op."""
    fixed, corrected = _ours(data, "overlap", "change")
    assert corrected.se < 0.95 * fixed.se


def test_hc1_factor_multiplies_the_whole_corrected_variance(data):
    hc0_fixed, hc0 = _ours(data, "overlap", "change", "HC0")
    hc1_fixed, hc1 = _ours(data, "overlap", "change", "HC1")
    n = len(_outcome(data, "change")[0])
    assert hc1_fixed.se**2 == pytest.approx(hc0_fixed.se**2 * n / (n - 2), rel=1e-12)
    assert hc1.se**2 == pytest.approx(hc0.se**2 * n / (n - 2), rel=1e-12)


def test_all_groups_at_once_equal_one_group_at_a_time(data):
    """variance_corrections of several outcome groups in one sparse product = each group alone (the form the
    SQL-sums path and the row path use)."""
    t, fit = data["t"], data["fit"]
    w = propensity_weights(fit.score, t, "overlap")
    terms = propensity_terms(data["x"], t, fit.score, w, "overlap")
    parts = [_outcome(data, "change"), _outcome(data, "responder")]
    row = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    group = np.concatenate([np.full(p[0].size, k) for k, p in enumerate(parts)])
    factor = np.concatenate([np.ones(parts[0][0].size), parts[1][2]])
    delta, positive = variance_corrections(terms, row, group, y, 2, factor)
    both = grouped_differences(y, t[row], w[row] * factor, group, 2)
    for k, (rows, values, f) in enumerate(parts):
        one = corrected_difference(terms, weighted_difference(values, t[rows], w[rows] * (1 if f is None else f)),
                                   rows, values, f)
        assert with_estimated_weights(both[k], float(delta[k]), int(positive[k])).se == pytest.approx(one.se,
                                                                                                       rel=1e-12)
        assert positive[k] == rows.size


def test_weight_derivatives_by_scheme():
    """∂w/∂η by central differences on the weight formulas (ATE: the truncated patients' derivative is 0)."""
    rng = np.random.default_rng(5)
    eta = rng.normal(0, 1.5, 200)
    t = rng.random(200) < 0.4
    for scheme in SCHEMES:
        w = propensity_weights(1 / (1 + np.exp(-eta)), t, scheme)
        h = 1e-6
        up = propensity_weights(1 / (1 + np.exp(-(eta + h))), t, scheme)
        down = propensity_weights(1 / (1 + np.exp(-(eta - h))), t, scheme)
        numeric = (up - down) / (2 * h)
        analytic = weight_derivative(1 / (1 + np.exp(-eta)), t, w, scheme)
        if scheme == "ate":  # the bounds move with the data in propensity_weights: compare the free patients
            low, high = np.percentile(w, (1.0, 99.0))
            free = (w > low) & (w < high)
            assert (analytic[~free] == 0).all() and (~free).sum() >= 4
            numeric, analytic = numeric[free], analytic[free]
            # numeric moves the percentiles too; the free patients' own derivative dominates
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_degenerate_outcome_keeps_no_ci():
    """Every outcome equal (no complication in either arm): no variance, no CI, correction or not."""
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.normal(size=100)})
    t = rng.random(100) < 1 / (1 + np.exp(-x["a"].to_numpy()))
    fit = fit_propensity(x, t)
    w = propensity_weights(fit.score, t)
    y = np.zeros(100)
    d = corrected_difference(propensity_terms(x, t, fit.score, w, "overlap"), weighted_difference(y, t, w),
                             np.arange(100), y)
    assert d.estimate == 0 and math.isnan(d.se) and math.isnan(d.lower)


def _many_groups(seed: int = 11, n: int = 3000, groups: int = 5):
    """A propensity model and outcome rows of several groups (some patients without a row in a group, missing
    outcomes, a row factor): more rows than one run of the compiled passes (ps_variance.BLOCK_ROWS)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.random(n) < 0.3, "c": rng.normal(size=n)}).astype(float)
    t = rng.random(n) < 1 / (1 + np.exp(-(0.4 * x["a"] - 0.3 * x["b"]).to_numpy()))
    fit = fit_propensity(x, t)
    w = propensity_weights(fit.score, t)
    terms = propensity_terms(x, t, fit.score, w, "overlap")
    row, group = [], []
    for g in range(groups):
        present = np.flatnonzero(rng.random(n) < 0.5 + 0.1 * g)
        row.append(present)
        group.append(np.full(present.size, g))
    row, group = np.concatenate(row), np.concatenate(group)
    y = [rng.normal(2.0, 3.0, row.size) + row % 7, (rng.random(row.size) < 0.4).astype(float)]
    y[0][rng.random(row.size) < 0.05] = np.nan
    y[1][rng.random(row.size) < 0.1] = np.nan
    factor = rng.uniform(0.8, 1.6, row.size)
    return x, t, w, terms, row, group, y, factor


def test_corrections_are_the_same_to_the_last_bit_in_any_row_order():
    """The database returns rows in any order (a parallel join): the same rows shuffled give the same bits."""
    *_, terms, row, group, y, factor = _many_groups()
    assert row.size > 4096
    delta, positive = variance_corrections(terms, row, group, y, 5, factor)
    rng = np.random.default_rng(1)
    shuffled = rng.permutation(row.size)
    # In patient order (as the comparison stage's table keeps them), a patient's rows in any order.
    by_patient = np.lexsort((rng.random(row.size), row))
    for o in (shuffled, by_patient):
        again = variance_corrections(terms, row[o], group[o], [v[o] for v in y], 5, factor[o])
        assert np.array_equal(again[0], delta) and np.array_equal(again[1], positive)


def test_corrections_of_many_groups_equal_the_formula_group_by_group():
    """delta of every group against the formula of the module docstring written out in numpy, group by group
    (the design rows gathered, one product per group): the compiled passes over all groups at once."""
    x, t, w, terms, row, group, y, factor = _many_groups()
    delta, positive = variance_corrections(terms, row, group, y, 5, factor)
    x1 = np.column_stack([np.ones(len(x)), x.to_numpy()])
    for j, values in enumerate(y):
        for g in range(5):
            ok = (group == g) & ~np.isnan(values)
            r, v, f = row[ok], values[ok], factor[ok]
            wr, tr = f * w[r], t[r]
            mean_t, mean_c = (wr * v)[tr].sum() / wr[tr].sum(), (wr * v)[~tr].sum() / wr[~tr].sum()
            centred = np.where(tr, (v - mean_t) / wr[tr].sum(), (mean_c - v) / wr[~tr].sum()) * f
            a_u = (centred * terms.s_fixed[r]) @ x1[r]
            c = terms.info_inverse @ ((centred * terms.s_derivative[r]) @ x1[r])
            assert delta[j, g] == pytest.approx(2 * c @ a_u + c @ terms.meat @ c, rel=1e-10)
            assert positive[j, g] == int((wr > 0).sum())
