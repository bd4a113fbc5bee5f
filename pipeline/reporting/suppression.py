"""Disclosure control (SAP section 8) for every published count, built on pipeline/reporting/disclosure.py.

- a count from 1 to threshold − 1 is published as "<threshold" (SUPPRESSED);
- a number derived from a suppressed count (rate, CI, mean, KM estimate, number at risk) is None;
- complementary suppression: for a proportion k of n, the complement n − k is a cell too (n and k published
  would reveal it), so a small complement suppresses k and the rate; tables published with totals go through
  `pipeline.reporting.disclosure.suppress_table`.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.reporting.disclosure import SUPPRESSED, is_small, mark, suppress_table

__all__ = ["SUPPRESSED", "Suppressor", "suppress_table"]


@dataclass(frozen=True)
class Suppressor:
    threshold: int

    @property
    def mark(self) -> str:
        return mark(self.threshold)

    def small(self, n: Any) -> bool:
        return n is not None and not pd.isna(n) and is_small(int(n), self.threshold)

    def count(self, n: Any) -> int | str | None:
        """A published count: the integer, or the suppression mark when small."""
        if n is None or pd.isna(n):
            return None
        return self.mark if self.small(n) else int(n)

    def proportion_hidden(self, n: Any, k: Any) -> bool:
        """True when k of n must not be published: n, k or the complement n − k is small."""
        if n is None or k is None or pd.isna(n) or pd.isna(k):
            return True
        return self.small(n) or self.small(k) or self.small(int(n) - int(k))

    def proportion(self, n: Any, k: Any) -> tuple[int | str | None, int | str | None, bool]:
        """(published n, published k, derived numbers allowed)."""
        hidden = self.proportion_hidden(n, k)
        missing = k is None or pd.isna(k)
        k_out = None if missing else (self.mark if hidden else int(k))
        return self.count(n), k_out, not hidden

    def derived(self, value: Any, *counts: Any) -> Any:
        """`value` when none of `counts` is small or missing, else None."""
        return None if any(c is None or pd.isna(c) or self.small(c) for c in counts) else value

    def table(self, counts: pd.DataFrame) -> pd.DataFrame:
        return suppress_table(counts, self.threshold)
