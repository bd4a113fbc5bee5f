"""Reading a REDCap export folder: records, data dictionary, events and the instrument–event mapping.

Accepts the files as downloaded from the REDCap web interface and as returned by the API (column names differ:
"Variable / Field Name" vs field_name, "Identifier?" vs identifier, form vs form_name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.adapters.common import MappingError

EVENT_COL = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DAG_COL = "redcap_data_access_group"
# Field types that hold free text or files: never copied, never mapped as a value.
FREE_TEXT_TYPES = {"notes", "file", "descriptive", "signature"}
CHOICE_TYPES = {"radio", "dropdown", "checkbox", "yesno", "truefalse"}
NUMERIC_VALIDATIONS = {"number", "integer", "number_1dp", "number_2dp", "number_3dp", "number_4dp",
                       "number_comma_decimal", "number_1dp_comma_decimal", "number_2dp_comma_decimal"}
DATE_VALIDATION = re.compile(r"^(date|datetime)(_seconds)?_(ymd|mdy|dmy)$")
IDENTIFYING_VALIDATIONS = {"email", "phone", "phone_australia", "postalcode_australia", "postalcode_canada",
                           "postalcode_french", "postalcode_germany", "zipcode", "ssn", "vmrn", "mrn_10d",
                           "mrn_generic"}

_DEFAULT_NAMES = {
    "records": ("records.csv", "data.csv"),
    "dictionary": ("dictionary.csv", "metadata.csv", "data_dictionary.csv"),
    "events": ("events.csv", "event.csv"),
    "form_events": ("instrument_event_mapping.csv", "form_event_mapping.csv", "formEventMapping.csv"),
    "repeating": ("repeating_instruments.csv", "repeating_forms_events.csv"),
}
_DICT_COLUMNS = {
    "field_name": ("field_name", "Variable / Field Name"),
    "form_name": ("form_name", "Form Name"),
    "field_type": ("field_type", "Field Type"),
    "choices": ("select_choices_or_calculations", "Choices, Calculations, OR Slider Labels"),
    "validation": ("text_validation_type_or_show_slider_number", "Text Validation Type OR Show Slider Number"),
    "identifier": ("identifier", "Identifier?"),
}


@dataclass(frozen=True)
class Field:
    name: str
    form: str
    type: str
    validation: str
    identifier: bool
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        if self.type == "yesno":
            return ("0", "1")
        if self.type == "truefalse":
            return ("0", "1")
        return tuple(c for c, _ in self.choices)

    @property
    def is_date(self) -> bool:
        return bool(DATE_VALIDATION.match(self.validation))


@dataclass
class Export:
    records: pd.DataFrame
    fields: dict[str, Field]
    record_id: str
    events: list[str] = field(default_factory=list)  # unique event names in project order
    form_events: dict[str, set[str]] | None = None  # form -> events it is assigned to (None: not given)

    @property
    def longitudinal(self) -> bool:
        return EVENT_COL in self.records.columns

    def forms(self) -> list[str]:
        return list(dict.fromkeys(f.form for f in self.fields.values()))


def _find(folder: Path, kind: str, given: str | None) -> Path | None:
    if given:
        path = folder / given
        if not path.is_file():
            raise MappingError(f"export.{kind}: {given!r} is not a file of the export folder")
        return path
    for name in _DEFAULT_NAMES[kind]:
        if (folder / name).is_file():
            return folder / name
    return None


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig")


def _column(frame: pd.DataFrame, key: str) -> pd.Series:
    for name in _DICT_COLUMNS[key]:
        if name in frame.columns:
            return frame[name]
    return pd.Series([""] * len(frame), index=frame.index)


def _choices(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in text.split("|"):
        code, sep, label = part.strip().partition(",")
        if sep:
            out.append((code.strip(), label.strip()))
    return tuple(out)


def read_export(folder: Path, names: dict[str, str] | None = None) -> Export:
    names = names or {}
    unknown = set(names) - set(_DEFAULT_NAMES)
    if unknown:
        raise MappingError(f"export: unknown key(s) {sorted(unknown)}; known: {sorted(_DEFAULT_NAMES)}")
    records_path = _find(folder, "records", names.get("records"))
    dict_path = _find(folder, "dictionary", names.get("dictionary"))
    if records_path is None or dict_path is None:
        raise MappingError("export: the folder needs the records CSV and the data dictionary CSV "
                           "(name them in [export] records = ..., dictionary = ...)")
    dictionary = _read(dict_path)
    fields = {}
    for name, form, ftype, choices, validation, ident in zip(
            _column(dictionary, "field_name"), _column(dictionary, "form_name"), _column(dictionary, "field_type"),
            _column(dictionary, "choices"), _column(dictionary, "validation"), _column(dictionary, "identifier"),
            strict=True):
        fields[name] = Field(name, form, ftype.strip().lower(), validation.strip().lower(),
                             ident.strip().lower() == "y",
                             _choices(choices) if ftype.strip().lower() in CHOICE_TYPES else ())
    if not fields:
        raise MappingError("export: the data dictionary holds no field")
    records = _read(records_path)
    record_id = next(iter(fields))
    export = Export(records, fields, record_id)
    events_path = _find(folder, "events", names.get("events"))
    if events_path is not None:
        events = _read(events_path)
        export.events = list(events["unique_event_name"]) if "unique_event_name" in events else []
    fe_path = _find(folder, "form_events", names.get("form_events"))
    if fe_path is not None:
        fe = _read(fe_path)
        form_col = "form" if "form" in fe.columns else "form_name"
        export.form_events = {}
        for event, form in zip(fe["unique_event_name"], fe[form_col], strict=True):
            export.form_events.setdefault(form, set()).add(event)
    if export.longitudinal and not export.events:
        export.events = list(dict.fromkeys(records[EVENT_COL]))
    return export
