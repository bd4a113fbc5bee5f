"""SAP section 8: small counts hidden, and no hidden count recoverable from a published total."""

import numpy as np
import pandas as pd

from pipeline.reporting.disclosure import SUPPRESSED, suppress_counts, suppress_table


def _recoverable(table: pd.DataFrame) -> bool:
    """True if some hidden cell is the only hidden one in its row or column (so total − others reveals it)."""
    body = table.drop(index="Total", columns="Total")
    hidden = body == SUPPRESSED
    return bool((hidden.sum(axis=1) == 1).any() or (hidden.sum(axis=0) == 1).any())


def test_counts_one_to_ten_are_hidden_and_zero_and_eleven_are_shown():
    shown = suppress_counts(pd.Series([0, 1, 10, 11, 250]), threshold=11)
    assert list(shown) == [0, SUPPRESSED, SUPPRESSED, 11, 250]


def test_complementary_suppression_leaves_no_hidden_cell_alone_in_a_row_or_column():
    counts = pd.DataFrame({"MILD": [120, 5, 40, 0], "LAMINECTOMY": [200, 30, 8, 12]}, index=list("ABCD"))
    table = suppress_table(counts, threshold=11)
    assert table.loc["B", "MILD"] == SUPPRESSED and table.loc["C", "LAMINECTOMY"] == SUPPRESSED
    assert not _recoverable(table)
    assert table.loc["A", "MILD"] == 120  # large cells away from small ones stay visible
    assert table.loc["Total", "Total"] == 415


def test_totals_are_hidden_when_small():
    counts = pd.DataFrame({"MILD": [3, 0], "LAMINECTOMY": [4, 50]}, index=["A", "B"])
    table = suppress_table(counts, threshold=11)
    assert table.loc["A", "Total"] == SUPPRESSED


def test_threshold_is_configurable():
    counts = pd.DataFrame({"MILD": [15, 40], "LAMINECTOMY": [30, 40]}, index=["A", "B"])
    assert suppress_table(counts, threshold=11).loc["A", "MILD"] == 15
    assert suppress_table(counts, threshold=20).loc["A", "MILD"] == "<20"
    assert list(suppress_counts(pd.Series([0, 12, 25]), threshold=20)) == [0, "<20", 25]


def _lone_hidden_anywhere(table: pd.DataFrame) -> bool:
    """Totals included: a row or column (totals row and column too) with exactly one hidden cell."""
    hidden = table == SUPPRESSED
    return bool((hidden.sum(axis=1) == 1).any() or (hidden.sum(axis=0) == 1).any())


def test_a_small_column_total_is_not_recoverable_from_the_grand_total():
    # "other" is 1 in total: hidden, and with the arms' totals and the grand total published it would be
    # 150 − 56 − 93; the totals row is a sum relation like any other.
    counts = pd.DataFrame({"other": [1, 0, 0], "MILD": [20, 20, 16], "LAMINECTOMY": [30, 33, 30]},
                          index=["A", "B", "C"])
    table = suppress_table(counts, threshold=11)
    assert table.loc["Total", "other"] == SUPPRESSED
    assert not _lone_hidden_anywhere(table)


def test_extended_tables_never_leave_a_lone_hidden_cell():
    rng = np.random.default_rng(8)
    for _ in range(200):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 4)))
        counts = pd.DataFrame(rng.choice([0, 1, 3, 9, 12, 40, 200], size=shape))
        table = suppress_table(counts, threshold=11)
        assert not _lone_hidden_anywhere(table), (counts, table)
        assert all(not (isinstance(v, int) and 0 < v < 11) for v in table.to_numpy().ravel())
