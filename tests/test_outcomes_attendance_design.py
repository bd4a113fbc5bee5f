"""The attendance models' design and separation screen (pipeline/outcomes/attendance.py) as the builder calls
them (rows gathered from the whole population, columns closed up in place; counts by one pass over blocks of rows) give
exactly what the direct construction gives: the same matrix bit for bit, the same terms, the same verdict.
The reference is the earlier implementation, kept here: a copy of the rows, a block copy of every column, a
boolean copy of the 0/1 columns, whole-column minima, maxima and projection; the site indicators written out
with Python counts."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipeline.outcomes import attendance
from pipeline.outcomes.attendance import (
    design_of_rows,
    last_value_columns,
    separating_indicator,
    site_indicators,
)


def reference_site_indicators(site, minimum):
    """Site indicators written out directly (Python counts): sites with fewer than `minimum` patients pooled
    under the code one past the largest, the largest level (the first in code order) the reference."""
    codes = [int(c) for c in site]
    if not codes:
        return np.zeros((0, 0)), []
    pooled = max(codes) + 1
    sizes = Counter(codes)
    level = [pooled if sizes[c] < minimum else c for c in codes]
    level_sizes = Counter(level)
    if len(level_sizes) == 1:
        return np.zeros((len(codes), 0)), []
    reference = max(sorted(level_sizes), key=lambda lv: level_sizes[lv])
    kept = [lv for lv in sorted(level_sizes) if lv != reference]
    columns = np.array([[float(lv == other) for other in kept] for lv in level]).reshape(len(codes), len(kept))
    pooled_used = any(sizes[c] < minimum for c in codes)
    return columns, [("site_pooled" if pooled_used and lv == pooled else f"site_{lv}") for lv in kept]


@pytest.mark.parametrize("seed", range(10))
def test_site_indicators_equal_the_earlier_construction(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    sites = int(rng.integers(1, 8))
    site = rng.choice(sites, n, p=rng.dirichlet(np.full(sites, 0.5)))
    for minimum in (1, 11, 60, 1000):
        columns, names = site_indicators(site, minimum)
        ref_columns, ref_names = reference_site_indicators(site, minimum)
        assert names == ref_names and columns.shape == ref_columns.shape
        np.testing.assert_array_equal(columns, ref_columns)


def reference_design(treated, covariates, covariate_names, site, last_value, site_minimum):
    t = np.asarray(treated, dtype=float)
    sites, site_names = reference_site_indicators(site, site_minimum)
    last, last_names = last_value_columns(last_value)
    blocks = [t[:, None], covariates, sites, last]
    names = ["treatment", *covariate_names, *site_names, *last_names]
    width = sum(b.shape[1] for b in blocks)
    x = np.empty((t.size, width + 1), order="F")
    x[:, 0] = 1.0
    col = 1
    for b in blocks:
        x[:, col:col + b.shape[1]] = b
        col += b.shape[1]
    keep = np.ones(width + 1, dtype=bool)
    if t.size:
        keep[1:] = x[:, 1:].max(axis=0) > x[:, 1:].min(axis=0)
        keep &= ~reference_repeated(x)
    terms = tuple(n for n, k in zip(["intercept", *names], keep, strict=True) if k)
    return (x if keep.all() else np.asfortranarray(x[:, keep])), terms


def reference_repeated(x):
    """Columns equal to an earlier kept column, by exact comparison of every pair (no projection)."""
    repeated = np.zeros(x.shape[1], dtype=bool)
    for j in range(1, x.shape[1]):
        repeated[j] = any(not repeated[i] and np.array_equal(x[:, i], x[:, j]) for i in range(j))
    return repeated


def reference_separating(x, assessed):
    if x.shape[1] < 2 or assessed.size == 0:
        return False
    cols = x[:, 1:]
    binary = np.all((cols == 0) | (cols == 1), axis=0)
    if not binary.any():
        return False
    b = cols[:, binary]
    ones = b.sum(axis=0)
    ones_assessed = b[assessed].sum(axis=0)
    zeros, zeros_assessed = assessed.size - ones, int(assessed.sum()) - ones_assessed
    return bool(np.any((ones_assessed == 0) | (ones_assessed == ones) | (zeros_assessed == 0)
                       | (zeros_assessed == zeros)))


def population(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    female = (rng.random(n) < 0.5).astype(float)
    rare = (rng.random(n) < 0.004).astype(float)  # constant (0) in many subsets
    baseline = rng.normal(40, 12, n)
    covariates = np.column_stack([age, female, rare, baseline, female])  # the last repeats `female`
    names = ["age", "female", "rare", "baseline_odi", "female_again"]
    treated = rng.random(n) < 0.4
    site = rng.choice(6, n, p=[0.4, 0.3, 0.2, 0.09, 0.007, 0.003])  # two small sites: pooled
    earlier = np.where(rng.random(n) < 0.1, np.nan, baseline)  # equal to a covariate where present
    return treated, covariates, names, site, earlier, rng


@pytest.mark.parametrize("block", [1, 97, 8192])  # rows per block of the columns' summary (the last shorter)
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("share", [1.0, 0.5, 0.02, 0.0])
def test_design_of_rows_equals_the_direct_construction(monkeypatch, seed, share, block):
    monkeypatch.setattr(attendance, "SCREEN_ROWS", block)
    treated, covariates, names, site, earlier, rng = population(seed)
    rows = np.flatnonzero(rng.random(treated.size) < share)
    if seed % 2:
        earlier = covariates[:, 3].copy()  # no gap: the last value repeats the baseline covariate exactly
    base = np.asfortranarray(np.column_stack([treated, covariates]))
    x, terms = design_of_rows(base, ("treatment", *names), rows, site[rows], earlier[rows], 11)
    ref_x, ref_terms = reference_design(treated[rows], covariates[rows], names, site[rows], earlier[rows], 11)
    assert terms == ref_terms
    assert x.shape == ref_x.shape and x.flags.f_contiguous
    np.testing.assert_array_equal(x, ref_x)
    # Built in a buffer shared by the models (left with NaN from elsewhere): the same matrix, in the buffer.
    buffer = np.full(treated.size * 20, np.nan)
    in_buffer, buffer_terms = design_of_rows(base, ("treatment", *names), rows, site[rows], earlier[rows], 11, buffer)
    assert buffer_terms == ref_terms and in_buffer.flags.f_contiguous
    assert np.shares_memory(in_buffer, buffer) or rows.size == 0
    np.testing.assert_array_equal(in_buffer, ref_x)


@pytest.mark.parametrize("block", [1, 97, 8192])  # rows per block of the screen (the last block shorter)
@pytest.mark.parametrize("seed", range(8))
def test_the_separation_screen_equals_the_direct_count(monkeypatch, seed, block):
    monkeypatch.setattr(attendance, "SCREEN_ROWS", block)
    treated, covariates, names, site, earlier, rng = population(seed, 800)
    base = np.asfortranarray(np.column_stack([treated, covariates]))
    x, terms = design_of_rows(base, ("treatment", *names), np.arange(800), site, earlier, 11)
    assessed = rng.random(800) < 0.6
    if seed % 2:  # every woman assessed: separated
        assessed |= x[:, terms.index("female")] == 1
    assert separating_indicator(x, assessed) == reference_separating(x, assessed)
    if "rare" in terms:  # every patient with the rare indicator not assessed: separated
        y = assessed & (x[:, terms.index("rare")] == 0)
        assert separating_indicator(x, y) == reference_separating(x, y)
