"""Subgroup interaction p-values (SAP 6 version 2) against a hand computation from the stored estimates and
SEs: z = (a − b) / sqrt(se_a² + se_b²), log scale for the HR, p = erfc(|z| / √2); and the SE stored with each
row is the one its CI was built from."""

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.comparison_coverage import simulate
from pipeline.comparison.subgroups import interaction_p, subgroup_estimates, with_interactions


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    data = simulate(23, n=2500)
    change = data.changes["change"].to_numpy()
    return subgroup_estimates(data.patients, data.changes["row"].to_numpy(), change, "overlap", (1.0, 99.0),
                              minimum=11)


def hand_p(a: float, se_a: float, b: float, se_b: float) -> float:
    return math.erfc(abs(a - b) / math.sqrt(se_a * se_a + se_b * se_b) / math.sqrt(2))


def test_every_pair_gets_the_hand_computed_interaction_p(rows):
    checked = 0
    for (subgroup, outcome), pair in rows.groupby(["subgroup", "outcome"]):
        assert len(pair) == 2
        a, b = pair.iloc[0], pair.iloc[1]
        if a.measure == "hazard_ratio":
            expected = hand_p(math.log(a.estimate), a.se, math.log(b.estimate), b.se)
        else:
            expected = hand_p(a.estimate, a.se, b.estimate, b.se)
        assert a.interaction_p == pytest.approx(expected, rel=1e-10), (subgroup, outcome)
        assert b.interaction_p == a.interaction_p
        assert 0 < a.interaction_p <= 1
        checked += 1
    assert checked == 8  # four subgroups × two outcomes


def test_the_stored_se_is_the_one_of_the_ci(rows):
    z = 1.959963984540054
    for r in rows.itertuples():
        if r.measure == "hazard_ratio":
            assert math.log(r.ci_upper / r.ci_lower) / (2 * z) == pytest.approx(r.se, rel=1e-9)
        else:
            assert (r.ci_upper - r.ci_lower) / (2 * z) == pytest.approx(r.se, rel=1e-9)


def test_a_level_without_estimate_gives_no_interaction_p():
    frame = pd.DataFrame({"subgroup": ["age", "age", "sex", "sex"], "level": ["< 75", ">= 75", "f", "m"],
                          "outcome": ["x"] * 4, "measure": ["mean_change_difference"] * 4,
                          "estimate": [1.0, np.nan, 2.0, 0.0], "se": [0.5, np.nan, 1.0, 1.0]})
    out = with_interactions(frame)
    assert out["interaction_p"].isna().tolist() == [True, True, False, False]
    assert out["interaction_p"].iloc[2] == pytest.approx(hand_p(2.0, 1.0, 0.0, 1.0))
    assert math.isnan(interaction_p(0.0, 0.1, 1.2, 0.1, log_scale=True))  # an HR of 0 has no log
