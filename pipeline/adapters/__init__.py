"""Adapters that turn a clinic's exports (REDCap, FHIR) into one landing-contract drop, on the site's side.

Dagster-free. `python -m pipeline.adapters redcap|fhir --mapping site.toml ...` (see docs/adapters.md).
"""

from pipeline.adapters.common import MappingError
from pipeline.adapters.drop import Conversion, Report, write_drop

__all__ = ["Conversion", "MappingError", "Report", "write_drop"]
