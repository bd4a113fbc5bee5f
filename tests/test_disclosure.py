"""SAP section 8: small counts hidden, and no hidden count recoverable from a published total."""

import pandas as pd

from pipeline.disclosure import SUPPRESSED, suppress_counts, suppress_table


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
    assert suppress_table(counts, threshold=20).loc["A", "MILD"] == SUPPRESSED
