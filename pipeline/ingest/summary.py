"""What an ingest run reports: per drop, per file, and totals. Counts and codes only, never data values."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FileReconciliation:
    """One file of one drop version: rows_read = accepted + quarantined + duplicates."""

    file: str
    table: str
    rows_read: int
    accepted: int
    quarantined: int
    duplicates: int
    superseded: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.duplicates


@dataclass
class DropOutcome:
    drop_id: str
    version: int | None
    status: str  # 'ingested' | 'rejected' | 'skipped' | 'waiting' (still being copied: left for later)
    reason_code: str | None
    reason: str | None
    files: list[FileReconciliation]
    top_coded_ages: int = 0
    erased_patients: int = 0


@dataclass
class IngestSummary:
    drops: list[DropOutcome]

    def _count(self, status: str) -> int:
        return sum(1 for d in self.drops if d.status == status)

    def _files(self) -> list[FileReconciliation]:
        return [f for d in self.drops for f in d.files]

    @property
    def ingested(self) -> int:
        return self._count("ingested")

    @property
    def rejected(self) -> int:
        return self._count("rejected")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def waiting(self) -> int:
        return self._count("waiting")

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self._files())

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self._files())

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self._files())

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self._files())

    @property
    def superseded(self) -> int:
        return sum(f.superseded for f in self._files())

    @property
    def top_coded_ages(self) -> int:
        return sum(d.top_coded_ages for d in self.drops)

    @property
    def erased_patients(self) -> int:
        return sum(d.erased_patients for d in self.drops)

    @property
    def quarantine_reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self._files():
            total.update(f.quarantine_reasons)
        return dict(total)
