"""Every asset of the refresh, in stage order: the one list the Definitions and the failure hook both read."""

from assets.comparison import COMPARISON_ASSETS
from assets.durability import DURABILITY_ASSETS
from assets.ingest import ingest_drops
from assets.outcomes import OUTCOME_ASSETS
from assets.reporting import REPORTING_ASSETS
from assets.staging import STAGING

REFRESH_ASSETS = [ingest_drops, *STAGING, *OUTCOME_ASSETS, *DURABILITY_ASSETS, *COMPARISON_ASSETS, *REPORTING_ASSETS]
