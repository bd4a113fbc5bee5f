"""The log-rank test from counts per distinct time (a KM curve table) equals the test on patient rows, so
the report can read aggregate tables only."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.survival import kaplan_meier
from pipeline.survival.logrank import logrank, logrank_from_counts


@pytest.mark.parametrize("seed", [3, 4])
def test_counts_of_the_curve_give_the_patient_level_test(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    group = rng.choice(["MILD", "LAMINECTOMY"], n)
    time = np.minimum(rng.integers(1, 120, n) + (group == "MILD") * rng.integers(0, 5, n), 100)
    event = rng.random(n) < 0.7
    expected = logrank(time, event, group)
    groups = []
    for g in ("LAMINECTOMY", "MILD"):
        table = kaplan_meier(time[group == g], event[group == g]).table
        groups.append((table.time, table.n_events.sum(axis=1), table.n_censored))
    got = logrank_from_counts(groups)
    assert got.chisq == pytest.approx(expected.chisq, rel=1e-12)
    assert got.p_value == pytest.approx(expected.p_value, rel=1e-9, abs=1e-300)


def test_two_groups_are_required():
    with pytest.raises(ValueError, match="two groups"):
        logrank_from_counts([([1.0], [1], [0])])
