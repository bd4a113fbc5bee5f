"""How the ingest stage sees each contract table: its files, its key, and the SQL models that check it."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.contract import COLUMNS, OPTIONAL_TABLES, TABLES


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    # The key the ingest.current_* views partition by: a later row with the same key replaces an earlier
    # one; two rows of one file with the same key but other values conflict.
    key: tuple[str, ...]
    required: bool

    @property
    def check_model(self) -> str:
        return _CHECK_MODELS[self.name]

    @property
    def insert_model(self) -> str:
        """The model inserting the accepted rows (erasures have none: they are applied by ingest_erase_*)."""
        return _INSERT_MODELS[self.name]

    @property
    def warehouse_table(self) -> str:
        return f"ingest.{self.name}"

    @property
    def current_view(self) -> str:
        return f"ingest.current_{self.name}"

    def file_names(self) -> tuple[str, str]:
        return (f"{self.name}.csv", f"{self.name}.parquet")


_KEYS = {
    "patients": ("site_id", "patient_id"),
    "pro_responses": ("site_id", "patient_id", "instrument", "days_from_index"),
    "events": COLUMNS["events"],  # an event's key is the whole row
    "erasures": COLUMNS["erasures"],
}

# The SQL models of each table, spelled out in full so that a search for a model's name finds its use.
_CHECK_MODELS = {
    "patients": "ingest/check_patients",
    "pro_responses": "ingest/check_pro_responses",
    "events": "ingest/check_events",
    "erasures": "ingest/check_erasures",
}
_INSERT_MODELS = {
    "patients": "ingest/insert_patients",
    "pro_responses": "ingest/insert_pro_responses",
    "events": "ingest/insert_events",
}

# Application order: patients first, so that pro_responses and events can refer to this drop's patients;
# erasures last, because they apply after the drop's rows.
SPECS: tuple[TableSpec, ...] = tuple(
    TableSpec(name, COLUMNS[name], _KEYS[name], required=name in TABLES)
    for name in (*TABLES, *OPTIONAL_TABLES)
)

MANIFEST = "manifest.json"
KNOWN_FILES = frozenset({MANIFEST, *(f for s in SPECS for f in s.file_names())})
