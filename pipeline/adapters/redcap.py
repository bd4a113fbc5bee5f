"""REDCap export -> one contract drop, driven by a TOML mapping (see docs/adapters.md).

Vectorised over the records table with pandas: a form's rows are selected by event (the instrument–event
mapping) or by redcap_repeat_instrument, filtered by `<form>_complete`, dated against the patient's index
date, and melted into one row per mapped instrument. Every row of every mapped form is counted once in the side
report: written, or skipped with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import contract
from pipeline.adapters.common import (
    COVARIATES,
    MappingError,
    Spec,
    check_codes,
    check_instrument,
    check_site,
    number_text,
    pseudonym,
    spec,
)
from pipeline.adapters.drop import Conversion, Report
from pipeline.adapters.redcap_export import (
    DAG_COL,
    EVENT_COL,
    FREE_TEXT_TYPES,
    IDENTIFYING_VALIDATIONS,
    REPEAT_INSTRUMENT,
    Export,
    Field,
    read_export,
)

CHECKBOX = re.compile(r"^(?P<base>.+?)___(?P<code>[A-Za-z0-9_.-]+)$")
_SPECIAL_COLUMNS = {DAG_COL, EVENT_COL}


@dataclass
class Instrument:
    code: str
    spec: Spec
    unit: str | None = None
    unit_field: str | None = None
    unit_map: dict[str, str] = field(default_factory=dict)


@dataclass
class FormBlock:
    """A [[pro]] or [[events]] block: one form, how its rows are dated, what each row becomes."""

    key: str
    form: str
    date: str | None
    event_days: bool
    events: tuple[str, ...]
    instruments: list[Instrument] = field(default_factory=list)  # [[pro]]
    event: Spec | None = None  # [[events]]: the contract event code
    detail: Spec | None = None


@dataclass
class RedcapMapping:
    site: Spec
    id_field: str
    pseudonymise: bool
    salt: str
    status: tuple[str, ...]
    index: Spec
    patients: dict[str, Spec]
    birth_date: Spec | None
    event_days: dict[str, int]
    pro: list[FormBlock]
    events: list[FormBlock]
    window: tuple[int, int] | None
    export_names: dict[str, str]


# --------------------------------------------------------------------------------------------------- mapping


def parse_mapping(doc: dict) -> RedcapMapping:
    known = {"format", "site_id", "site", "export", "ids", "complete", "index", "patients", "event_days", "pro",
             "events", "window_days"}
    if unknown := set(doc) - known:
        raise MappingError(f"unknown top-level key(s) {sorted(unknown)}; known: {sorted(known)}")
    if "site_id" in doc:
        site = Spec("site_id", constant=check_site(str(doc["site_id"])))
    elif "site" in doc:
        site = spec("site", doc["site"])
        for s in site.map.values():
            check_site(s)
    else:
        raise MappingError("site_id: give site_id = \"...\" or [site] field = ..., map = {...}")
    ids = doc.get("ids", {})
    if "index" not in doc or "date" not in doc["index"]:
        raise MappingError("index.date: name the date field of the index procedure")
    index = spec("index.date", {"field": doc["index"]["date"], **({"event": doc["index"]["event"]}
                                                                 if "event" in doc["index"] else {})})
    pats = dict(doc.get("patients", {}))
    birth = spec("patients.birth_date", pats.pop("birth_date")) if "birth_date" in pats else None
    allowed = {"procedure", "age_at_index", *COVARIATES}
    if unknown := set(pats) - allowed:
        raise MappingError(f"patients: unknown column(s) {sorted(unknown)}; known: {sorted(allowed)}")
    patients = {k: spec(f"patients.{k}", v) for k, v in pats.items()}
    if "procedure" not in patients:
        raise MappingError("patients.procedure: required (a constant, or a field with a map)")
    if "age_at_index" not in patients and birth is None:
        raise MappingError("patients: give age_at_index or birth_date")
    for col in ("procedure", "sex", "anesthesia"):
        if col in patients:
            check_codes(patients[col], col)
    window = doc.get("window_days")
    status = doc.get("complete", {}).get("status", ["2"])
    return RedcapMapping(
        site=site, id_field=ids.get("field", ""), pseudonymise=bool(ids.get("pseudonymise", False)),
        salt=str(ids.get("salt", "")), status=tuple(str(s) for s in status), index=index, patients=patients,
        birth_date=birth, event_days={str(k): int(v) for k, v in doc.get("event_days", {}).items()},
        pro=[_block(f"pro[{i}]", b, pro=True) for i, b in enumerate(doc.get("pro", []))],
        events=[_block(f"events[{i}]", b, pro=False) for i, b in enumerate(doc.get("events", []))],
        window=(int(window[0]), int(window[1])) if window else None,
        export_names={str(k): str(v) for k, v in doc.get("export", {}).items()},
    )


def _block(key: str, b: dict, pro: bool) -> FormBlock:
    if "form" not in b:
        raise MappingError(f"{key}.form: required")
    dated = b.get("date")
    by_event = b.get("days") == "event"
    if (dated is None) == (not by_event):
        raise MappingError(f"{key}: give exactly one of date = \"<date field>\" and days = \"event\"")
    events = b.get("event", ())
    block = FormBlock(key, b["form"], dated, by_event, (events,) if isinstance(events, str) else tuple(events))
    if pro:
        values = b.get("values", {})
        if not values:
            raise MappingError(f"{key}.values: map at least one instrument to a field")
        for code, v in values.items():
            s = spec(f"{key}.values.{code}", v)
            extra = v if isinstance(v, dict) else {}
            check_instrument(s.key, code, extra.get("unit"), extra.get("unit_field"))
            block.instruments.append(Instrument(code, s, extra.get("unit"), extra.get("unit_field"),
                                                {str(a): str(c) for a, c in extra.get("unit_map", {}).items()}))
    else:
        if "code" not in b:
            raise MappingError(f"{key}: give code = \"<EVENT>\" or code = {{field = ..., map = ...}}")
        block.events = (events,) if isinstance(events, str) else tuple(events)
        block.event = spec(f"{key}.code", {"constant": b["code"]} if isinstance(b["code"], str) else b["code"])
        for t in [*block.event.map.values(), *([block.event.constant] if block.event.constant else [])]:
            if t not in contract.EVENTS:
                raise MappingError(f"{key}.code: {t!r} is not a contract event ({', '.join(contract.EVENTS)})")
        if "detail" in b:
            block.detail = spec(f"{key}.detail", b["detail"])
            if block.detail.source is not None and not (block.detail.map or block.detail.labels):
                raise MappingError(f"{key}.detail: free text is never copied; give a choice field with a "
                                   "'map' or labels = true")
    return block


# ------------------------------------------------------------------------------------------- checks vs export


def _field(export: Export, key: str, name: str, role: str) -> Field:
    """The dictionary field behind a mapped name, refusing identifiers and free text for value roles.

    role: 'value' (a number or code written out), 'date' (turned into days), 'birth' (turned into an age),
    'id' (the record id) or 'site'."""
    if name in _SPECIAL_COLUMNS:
        return Field(name, "", "special", "", False)
    m = CHECKBOX.match(name)
    base = export.fields.get(m.group("base")) if m else None
    if base is not None and base.type == "checkbox":
        if m.group("code").lower() not in {c.lower() for c in base.codes}:
            raise MappingError(f"{key}: checkbox code {m.group('code')!r} is not in the choices of "
                               f"{base.name!r} ({', '.join(base.codes)})")
        f = Field(name, base.form, "checkbox_column", "", base.identifier, (("0", "0"), ("1", "1")))
    elif name in export.fields:
        f = export.fields[name]
        if f.type == "checkbox":
            raise MappingError(f"{key}: {name!r} is a checkbox; name one of its columns, e.g. "
                               f"{name}___{f.codes[0] if f.codes else 'CODE'}")
    else:
        raise MappingError(f"{key}: field {name!r} is not in the data dictionary")
    if role in ("date", "birth"):
        if not f.is_date:
            raise MappingError(f"{key}: field {name!r} is not a date field (validation {f.validation or 'none'})")
        return f
    if f.identifier and not (role == "id" and f.name == export.record_id):
        raise MappingError(f"{key}: field {name!r} is marked as an identifier in the data dictionary "
                           "(Identifier? = y) and is never copied into a drop")
    word = contract.identifier_column_word(name)
    if role != "id" and (word or f.validation in IDENTIFYING_VALIDATIONS):
        raise MappingError(f"{key}: field {name!r} looks like an identifier "
                           f"({word or f.validation}) and is never copied into a drop")
    if f.type in FREE_TEXT_TYPES:
        raise MappingError(f"{key}: field {name!r} is free text ({f.type}) and is never copied into a drop")
    if f.is_date:
        raise MappingError(f"{key}: field {name!r} is a date; dates are turned into days only through "
                           "index.date, a block's date, or patients.birth_date")
    return f


def _check_events(export: Export, key: str, form: str, events: tuple[str, ...]) -> None:
    for ev in events:
        if export.events and ev not in export.events:
            close = [e for e in export.events if e[:4] == ev[:4]]
            hint = f" (the project's events: {', '.join(close or export.events)})"
            raise MappingError(f"{key}: event {ev!r} is not an event of the project{hint}")
        if export.form_events is not None and form and ev not in export.form_events.get(form, set()):
            raise MappingError(f"{key}: form {form!r} is not assigned to event {ev!r} "
                               "in the instrument–event mapping")


def _check_spec(export: Export, s: Spec, role: str = "value", form: str | None = None) -> Field | None:
    if s.source is None:
        return None
    f = _field(export, s.key, s.source, role)
    if form is not None and f.form and f.form != form and role == "value":
        raise MappingError(f"{s.key}: field {s.source!r} belongs to form {f.form!r}, not {form!r}")
    _check_events(export, s.key, f.form, s.event)
    if s.map and f.codes:
        for code in s.map:
            if code not in f.codes:
                raise MappingError(f"{s.key}: choice code {code!r} is not in the choices of {f.name!r} "
                                   f"({', '.join(f.codes)})")
    if s.labels and not f.choices:
        raise MappingError(f"{s.key}: labels = true needs a radio, dropdown or checkbox field")
    return f


def check_mapping(m: RedcapMapping, export: Export) -> None:
    if m.id_field:
        _field(export, "ids.field", m.id_field, "id")
        export.record_id = m.id_field
    record = export.fields[export.record_id]
    # A record id that is flagged, named like an identifier (mrn, ssn, ...) or validated as one (phone, email,
    # ...) is copied only as a keyed pseudonym: a digits-only MRN is a valid study number to the ingest, so
    # nothing downstream would stop it.
    looks_identifying = (record.identifier or contract.identifier_column_word(record.name)
                         or record.validation in IDENTIFYING_VALIDATIONS)
    if looks_identifying and not m.pseudonymise:
        raise MappingError(f"ids.field: the record id {record.name!r} is or looks like an identifier; set "
                           "ids.pseudonymise = true and a secret ids.salt")
    if m.pseudonymise and len(m.salt) < 16:
        raise MappingError("ids.salt: pseudonymised ids need a secret salt of at least 16 characters")
    _check_spec(export, m.site, "site")
    _check_spec(export, m.index, "date")
    if m.birth_date is not None:
        _check_spec(export, m.birth_date, "birth")
    for s in m.patients.values():
        _check_spec(export, s)
    if export.longitudinal:
        for ev in m.event_days:
            _check_events(export, f"event_days.{ev}", "", (ev,))
    for b in [*m.pro, *m.events]:
        if b.form not in export.forms():
            raise MappingError(f"{b.key}.form: form {b.form!r} is not in the data dictionary")
        _check_events(export, f"{b.key}.event", b.form, b.events)
        if b.date:
            _check_spec(export, Spec(f"{b.key}.date", source=b.date), "date")
        if b.event_days:
            for ev in b.events or sorted((export.form_events or {}).get(b.form, export.events)):
                if ev not in m.event_days:
                    raise MappingError(f"{b.key}: days = \"event\" needs event_days.{ev}")
        for ins in b.instruments:
            _check_spec(export, ins.spec, form=b.form)
            if ins.unit_field:
                us = Spec(f"{ins.spec.key}.unit_field", source=ins.unit_field, map=ins.unit_map)
                _check_spec(export, us, form=b.form)
                allowed = contract.INSTRUMENTS[ins.code].units
                for u in ins.unit_map.values():
                    if u not in allowed:
                        raise MappingError(f"{us.key}: unit {u!r} is not allowed for {ins.code} ({list(allowed)})")
        for s in (b.event, b.detail):
            if s is not None:
                _check_spec(export, s, form=b.form)


# ------------------------------------------------------------------------------------------------ conversion


class _Frame:
    """The records table with the masks every step needs."""

    def __init__(self, export: Export, m: RedcapMapping):
        self.x = export
        self.r = export.records
        self.m = m
        n = len(self.r)
        self.event = self.r[EVENT_COL] if export.longitudinal else pd.Series([""] * n, index=self.r.index)
        self.repeat = (self.r[REPEAT_INSTRUMENT] if REPEAT_INSTRUMENT in self.r
                       else pd.Series([""] * n, index=self.r.index))

    def col(self, name: str) -> pd.Series:
        if name in self.r.columns:
            return self.r[name]
        lower = {c.lower(): c for c in self.r.columns}  # checkbox columns: REDCap lower-cases the code
        if name.lower() in lower:
            return self.r[lower[name.lower()]]
        return pd.Series([""] * len(self.r), index=self.r.index)

    def of_form(self, form: str) -> pd.Series:
        """Rows that carry the form: its repeat instances, and non-repeating rows at the events it is on."""
        if not form:
            return pd.Series(True, index=self.r.index)
        own = self.repeat == form
        if own.any():  # a repeating instrument: its data are only on its own instance rows
            return own
        plain = self.repeat == ""
        if self.x.form_events is not None and self.x.longitudinal:
            plain &= self.event.isin(self.x.form_events.get(form, set()))
        return own | plain

    def complete(self, form: str) -> pd.Series:
        col = f"{form}_complete"
        if col not in self.r.columns:
            return pd.Series(True, index=self.r.index)
        return self.r[col].isin(self.m.status)

    def per_record(self, s: Spec, filter_complete: bool = True) -> pd.Series:
        """The first non-empty value of a field per record (export order), at the spec's events."""
        form = _form_of(self.x, s.source)
        mask = self.of_form(form)
        if s.event:
            mask &= self.event.isin(s.event)
        if filter_complete and form:
            mask &= self.complete(form)
        values = self.col(s.source)[mask]
        values = values[values != ""]
        ids = self.r[self.x.record_id][values.index]
        return pd.Series(values.to_numpy(), index=ids.to_numpy()).groupby(level=0, sort=False).first()


def _form_of(export: Export, name: str) -> str:
    m = CHECKBOX.match(name)
    f = export.fields.get(name) or (export.fields.get(m.group("base")) if m else None)
    return f.form if f is not None else ""


def _numbers(values: pd.Series, report: Report, key: str) -> pd.Series:
    """number_text over a column (each distinct value once); counts non-numeric values, never keeps them."""
    uniq = {v: number_text(v) for v in values.unique()}
    out = values.map(uniq)
    bad = int(((values != "") & out.isna()).sum())
    if bad:
        report.not_numeric[key] += bad
    return out


def _coded(s: Spec, values: pd.Series, report: Report, export: Export) -> pd.Series:
    if s.constant is not None:
        return pd.Series(s.constant, index=values.index)
    if s.map:
        return values.map(s.map)
    if s.labels:
        f = export.fields.get(s.source)
        return values.map(dict(f.choices) if f else {})
    return _numbers(values, report, s.key)


def _days(dates: pd.Series, index: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(dates.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return (parsed - index).dt.days


def convert(export: Export, m: RedcapMapping) -> Conversion:
    check_mapping(m, export)
    report = Report("redcap")
    fr = _Frame(export, m)
    rid = export.record_id
    ids = pd.Series(pd.unique(fr.r[rid]))
    ids = ids[ids != ""]
    src = report.source("records")
    # index date and birth date: never written, only turned into index_year, days and age
    index = pd.to_datetime(fr.per_record(m.index, filter_complete=False).str.slice(0, 10), format="%Y-%m-%d",
                           errors="coerce").reindex(ids.to_numpy())
    pats = pd.DataFrame(index=ids.to_numpy())
    pats["site_id"] = (pd.Series(m.site.constant, index=pats.index) if m.site.constant is not None
                       else fr.per_record(m.site, False).map(m.site.map).reindex(pats.index))
    for col, s in m.patients.items():
        raw = (pd.Series("", index=pats.index) if s.constant is not None
               else fr.per_record(s).reindex(pats.index).fillna(""))
        pats[col] = _coded(s, raw, report, export)
    if m.birth_date is not None:
        birth = pd.to_datetime(fr.per_record(m.birth_date, False).str.slice(0, 10), format="%Y-%m-%d",
                               errors="coerce").reindex(pats.index)
        years = index.dt.year - birth.dt.year - (
            (index.dt.month * 100 + index.dt.day) < (birth.dt.month * 100 + birth.dt.day)).astype(int)
        pats["age_at_index"] = years.clip(upper=contract.AGE_TOP_CODE).astype("Int64").astype(str).replace(
            "<NA>", "")
    else:
        ages = pd.to_numeric(pats["age_at_index"], errors="coerce")
        pats["age_at_index"] = pats["age_at_index"].where(~(ages > contract.AGE_TOP_CODE),
                                                          str(contract.AGE_TOP_CODE))
    pats["index_year"] = index.dt.year.astype("Int64").astype(str).replace("<NA>", "")
    reason = pd.Series(None, index=pats.index, dtype=object)
    reason[pats["procedure"].isna()] = "unmapped"
    reason[pats["site_id"].isna()] = "unmapped"
    reason[index.isna().to_numpy()] = "no_date"
    for r, n in reason.value_counts().items():
        src.add(r, int(n))
    src.add(None, int(reason.isna().sum()))
    keep = reason.isna().to_numpy()
    pats = pats[keep]
    index = index[keep]
    pid = (pats.index.map(lambda v: pseudonym(m.salt, str(v))) if m.pseudonymise
           else pats.index.astype(str))
    pats["patient_id"] = pid
    id_of = pd.Series(pats["patient_id"].to_numpy(), index=pats.index)
    site_of = pats["site_id"]
    pros = [_pro_block(fr, b, index, id_of, site_of, report) for b in m.pro]
    evs = [_event_block(fr, b, index, id_of, site_of, report) for b in m.events]
    _never_seen(fr, m, report)
    pro_df = pd.concat(pros, ignore_index=True) if pros else pd.DataFrame(columns=contract.COLUMNS["pro_responses"])
    ev_df = pd.concat(evs, ignore_index=True) if evs else pd.DataFrame(columns=contract.COLUMNS["events"])
    report.rows = {"patients": len(pats), "pro_responses": len(pro_df), "events": len(ev_df)}
    return Conversion(pats.reset_index(drop=True), pro_df, ev_df, report)


def _block_rows(fr: _Frame, b: FormBlock, index: pd.Series, report: Report
                ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The form's rows, each row's skip reason (None = kept so far) and its days from index."""
    mask = fr.of_form(b.form)
    rows = fr.r[mask]
    reason = pd.Series(None, index=rows.index, dtype=object)
    if b.events:
        reason[~fr.event[mask].isin(b.events)] = "unmapped"
    free = reason.isna()
    reason[free & ~fr.complete(b.form)[mask]] = "incomplete_form"
    recs = rows[fr.x.record_id]
    idx = pd.Series(index.reindex(recs.to_numpy()).to_numpy(), index=rows.index)
    reason[reason.isna() & idx.isna()] = "unresolved_reference"
    if b.date:
        days = _days(fr.col(b.date)[mask], idx)
    else:
        days = fr.event[mask].map(fr.m.event_days).astype("Float64")
    reason[reason.isna() & days.isna()] = "no_date"
    if fr.m.window is not None:
        lo, hi = fr.m.window
        reason[reason.isna() & ((days < lo) | (days > hi)).fillna(False)] = "outside_window"
    return rows, reason, days


def _pro_block(fr: _Frame, b: FormBlock, index: pd.Series, id_of: pd.Series, site_of: pd.Series,
               report: Report) -> pd.DataFrame:
    rows, reason, days = _block_rows(fr, b, index, report)
    parts = []
    any_value = pd.Series(False, index=rows.index)
    for ins in b.instruments:
        value = _coded(ins.spec, fr.col(ins.spec.source)[rows.index], report, fr.x)
        if ins.unit_field:
            unit = fr.col(ins.unit_field)[rows.index]
            unit = unit.map(ins.unit_map) if ins.unit_map else unit.where(unit.isin(
                contract.INSTRUMENTS[ins.code].units))
        else:
            unit = pd.Series(ins.unit or "", index=rows.index)
        ok = value.notna() & reason.isna()
        any_value |= value.notna()
        parts.append(pd.DataFrame({"rec": rows[fr.x.record_id][ok], "days_from_index": days[ok],
                                   "instrument": ins.code, "value": value[ok], "unit": unit[ok].fillna("")}))
    reason[reason.isna() & ~any_value] = "no_value"
    _count(report, f"form:{b.form}", reason)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["rec", "days_from_index", "instrument", "value", "unit"])
    return _keyed(out, id_of, site_of)


def _event_block(fr: _Frame, b: FormBlock, index: pd.Series, id_of: pd.Series, site_of: pd.Series,
                 report: Report) -> pd.DataFrame:
    rows, reason, days = _block_rows(fr, b, index, report)
    code = _coded(b.event, fr.col(b.event.source)[rows.index] if b.event.source else
                  pd.Series("", index=rows.index), report, fr.x)
    reason[reason.isna() & code.isna()] = "unmapped"
    detail = (pd.Series("", index=rows.index) if b.detail is None else
              _coded(b.detail, fr.col(b.detail.source)[rows.index] if b.detail.source else
                     pd.Series("", index=rows.index), report, fr.x).fillna(""))
    _count(report, f"form:{b.form}", reason)
    ok = reason.isna()
    out = pd.DataFrame({"rec": rows[fr.x.record_id][ok], "days_from_index": days[ok], "event": code[ok],
                        "detail": detail[ok]})
    return _keyed(out, id_of, site_of)


def _keyed(out: pd.DataFrame, id_of: pd.Series, site_of: pd.Series) -> pd.DataFrame:
    out = out.copy()
    out["site_id"] = out["rec"].map(site_of)
    out["patient_id"] = out["rec"].map(id_of)
    out["days_from_index"] = out["days_from_index"].astype("int64").astype(str)
    return out.drop(columns="rec")


def _count(report: Report, name: str, reason: pd.Series) -> None:
    src = report.source(name)
    for r, n in reason.value_counts().items():
        src.add(str(r), int(n))
    src.add(None, int(reason.isna().sum()))


def _never_seen(fr: _Frame, m: RedcapMapping, report: Report) -> None:
    names = [s.source for s in m.patients.values() if s.source] + [m.index.source]
    if m.birth_date is not None:
        names.append(m.birth_date.source)
    for b in [*m.pro, *m.events]:
        names += [i.spec.source for i in b.instruments if i.spec.source] + ([b.date] if b.date else [])
        names += [s.source for s in (b.event, b.detail) if s is not None and s.source]
    for name in dict.fromkeys(names):
        col = fr.col(name)
        if CHECKBOX.match(name) and name not in _SPECIAL_COLUMNS:
            seen = bool((col == "1").any())
        else:
            seen = bool((col != "").any())
        if not seen:
            report.never_seen.add(name)


def run(export_dir: Path, doc: dict) -> Conversion:
    m = parse_mapping(doc)
    return convert(read_export(export_dir, m.export_names), m)
