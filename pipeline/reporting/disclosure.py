"""Disclosure control (SAP section 8): small counts hidden, and no hidden count recoverable by subtraction."""

from __future__ import annotations

import pandas as pd

SUPPRESSED = "<11"  # the mark at the default threshold of 11


def mark(threshold: int) -> str:
    """How a suppressed count is published: "<threshold" (SAP 8: "<11" at the default threshold)."""
    return f"<{threshold}"


def is_small(count: int, threshold: int) -> bool:
    """Counts 1..threshold-1 are disclosive (0 is not: it reveals no individual)."""
    return 0 < count < threshold


def suppress_table(counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Suppress small cells of a table of counts that is published with its row and column totals.

    The totals are cells too: the table is extended by a "Total" column and row, and every row and column of
    the extended table (the totals row and column included) is a sum relation. Primary suppression hides every
    small cell (totals included); complementary suppression then hides, in any row or column left with exactly
    one hidden cell, the smallest other non-zero cell, until no row or column has a lone hidden cell, so no
    hidden cell is the difference of published ones. Returns an object frame with the totals added, cells as
    int or the suppression mark of `threshold`.
    """
    values = counts.astype(int)
    full = values.copy()
    full["Total"] = values.sum(axis=1)
    full.loc["Total"] = full.sum(axis=0)
    hidden = full.map(lambda v: is_small(int(v), threshold))
    changed = True
    while changed:
        changed = False
        for transposed in (False, True):
            frame, mask = (full.T, hidden.T) if transposed else (full, hidden)
            for label in frame.index:
                row_hidden = mask.loc[label]
                if row_hidden.sum() != 1:
                    continue
                candidates = frame.loc[label][(~row_hidden) & (frame.loc[label] > 0)]
                if candidates.empty:
                    continue  # every other cell is 0: the hidden one is 0 too, or the line total is hidden
                partner = candidates.idxmin()
                if transposed:
                    hidden.loc[partner, label] = True
                else:
                    hidden.loc[label, partner] = True
                changed = True
                break
            if changed:
                break
    shown = mark(threshold)
    return full.astype(object).where(~hidden, shown).map(lambda v: v if v == shown else int(v))


def suppress_counts(series: pd.Series, threshold: int) -> pd.Series:
    """Primary suppression for counts published without totals (e.g. patients seen per visit)."""
    shown = mark(threshold)
    return series.astype(int).map(lambda v: shown if is_small(v, threshold) else int(v)).astype(object)
