"""Ingest stage: landing drops -> ingest.* warehouse tables, with quarantine and reconciliation.

See docs/ingest.md. No Dagster here: the asset calls ingest_landing, the sensor landing_fingerprint.
"""

from .discover import landing_fingerprint
from .errors import DropRejected, IngestError
from .results import DropOutcome, FileReconciliation, IngestSummary
from .run import ingest_landing

__all__ = [
    "DropOutcome",
    "DropRejected",
    "FileReconciliation",
    "IngestError",
    "IngestSummary",
    "ingest_landing",
    "landing_fingerprint",
]
