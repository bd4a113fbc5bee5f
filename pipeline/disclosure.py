"""Disclosure control (SAP section 8): small counts hidden, and no hidden count recoverable by subtraction."""

from __future__ import annotations

import pandas as pd

SUPPRESSED = "<11"


def is_small(count: int, threshold: int) -> bool:
    """Counts 1..threshold-1 are disclosive (0 is not: it reveals no individual)."""
    return 0 < count < threshold


def suppress_table(counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Suppress small cells of a table of counts that is published with its row and column totals.

    Primary suppression hides every small cell; complementary suppression then hides, in any row or column
    left with exactly one hidden cell, the smallest other non-zero cell, so the hidden one cannot be recovered
    from the total. Totals themselves are suppressed when small. Returns an object frame with the totals
    added (row and column "Total"), cells as int or SUPPRESSED.
    """
    values = counts.astype(int)
    hidden = values.map(lambda v: is_small(v, threshold))
    changed = True
    while changed:
        changed = False
        for axis_frame, axis_hidden in ((values, hidden), (values.T, hidden.T)):
            for label in axis_frame.index:
                row_hidden = axis_hidden.loc[label]
                if row_hidden.sum() != 1:
                    continue
                candidates = axis_frame.loc[label][(~row_hidden) & (axis_frame.loc[label] > 0)]
                if candidates.empty:
                    continue  # the lone hidden cell is the row's only non-zero one: its total is hidden too
                partner = candidates.idxmin()
                if axis_frame is values:
                    hidden.loc[label, partner] = True
                else:
                    hidden.loc[partner, label] = True
                changed = True
                break
            if changed:
                break
    out = values.astype(object).where(~hidden, SUPPRESSED)
    row_totals = values.sum(axis=1)
    col_totals = values.sum(axis=0)
    out["Total"] = [SUPPRESSED if is_small(v, threshold) else int(v) for v in row_totals]
    total_row = [SUPPRESSED if is_small(v, threshold) else int(v) for v in col_totals]
    grand = int(values.to_numpy().sum())
    out.loc["Total"] = [*total_row, SUPPRESSED if is_small(grand, threshold) else grand]
    return out


def suppress_counts(series: pd.Series, threshold: int) -> pd.Series:
    """Primary suppression for counts published without totals (e.g. patients seen per visit)."""
    return series.astype(int).map(lambda v: SUPPRESSED if is_small(v, threshold) else int(v)).astype(object)
