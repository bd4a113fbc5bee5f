"""Disclosure helpers of the reports (SAP 8): small counts, derived numbers, complements."""

import pandas as pd

from pipeline.reporting.suppression import SUPPRESSED, Suppressor


def test_counts_and_derived_numbers():
    s = Suppressor(11)
    assert [s.count(n) for n in (0, 1, 10, 11, 500)] == [0, SUPPRESSED, SUPPRESSED, 11, 500]
    assert s.derived(0.5, 20, 5) is None and s.derived(0.5, 20, 11) == 0.5


def test_a_small_complement_hides_the_count_and_the_rate():
    s = Suppressor(11)
    assert s.proportion(100, 95) == (100, SUPPRESSED, False)  # 5 unsatisfied would be recoverable
    assert s.proportion(100, 5) == (100, SUPPRESSED, False)
    assert s.proportion(100, 50) == (100, 50, True)
    assert s.proportion(100, 0) == (100, 0, True) and s.proportion(100, 100) == (100, 100, True)
    assert s.proportion(8, 4)[0] == SUPPRESSED


def test_threshold_is_configurable():
    s = Suppressor(30)
    assert s.count(25) == "<30" and s.count(30) == 30


def test_tables_with_totals_get_complementary_suppression():
    s = Suppressor(11)
    t = s.table(pd.DataFrame({"A": [50, 5], "B": [40, 60]}, index=["S1", "S2"]))
    hidden = (t == SUPPRESSED).to_numpy().sum()
    assert t.loc["S2", "A"] == SUPPRESSED and hidden >= 2  # the partner cell too
