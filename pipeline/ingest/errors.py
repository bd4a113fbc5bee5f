"""Exceptions of the ingest stage. Their messages never hold a data value (no ids, no text from a file)."""

from __future__ import annotations


class DropRejected(Exception):
    """A drop-level fault: the whole drop is refused (code is a contract.DROP_REJECTION_CODES key)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class IngestError(RuntimeError):
    """An unexpected failure (a bug or an environment problem), raised after the drop was rolled back.

    The underlying database error is not chained: its message may quote the offending data.
    """
