"""Ingest stage: landing drops -> ingest.* warehouse tables, with quarantine and reconciliation.

See docs/ingest.md. No Dagster here: the asset calls ingest_landing, the sensor drop_digests (complete drops only).
"""

from .discover import drop_digests, landing_fingerprint, waiting_reason
from .errors import DropRejected, IngestError
from .run import ingest_landing
from .summary import DropOutcome, FileReconciliation, IngestSummary

__all__ = [
    "DropOutcome",
    "DropRejected",
    "FileReconciliation",
    "IngestError",
    "IngestSummary",
    "drop_digests",
    "ingest_landing",
    "landing_fingerprint",
    "waiting_reason",
]
