"""Exceptions of the ingest stage. Their messages never hold a data value (no ids, no text from a file)."""

from __future__ import annotations

import duckdb


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


class SqlModelError(duckdb.Error):
    """A DuckDB error in a named SQL model. Only the model and the error type are kept: DuckDB messages
    may quote the data (a value that failed a cast, the text of a CSV line).
    """

    def __init__(self, model: str, error: duckdb.Error) -> None:
        super().__init__(f"SQL model {model} failed ({type(error).__name__})")
        self.model = model
        self.error_type = type(error)

    @property
    def is_bug(self) -> bool:
        """The SQL itself is wrong (it does not bind or parse), whatever the data."""
        return issubclass(
            self.error_type, (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException)
        )
