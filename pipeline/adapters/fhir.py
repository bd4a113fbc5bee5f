"""FHIR (R4, STU3) resources -> one contract drop, driven by a TOML mapping (see docs/adapters.md).

Patients come from Patient resources that have an index Procedure (the earliest Procedure with an index code);
PRO rows from QuestionnaireResponse items and Observations; covariates from Patient (gender, birthDate -> age)
and from the latest coded Observation on or before the index day; events from other mapped Procedures and
Patient.deceased[x]. Dates are used only to count days and are never written; Patient ids are replaced by a
keyed pseudonym. Every QuestionnaireResponse, Observation, Procedure and Patient read is counted once in the
side report: written, or skipped with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline import contract
from pipeline.adapters.common import (
    COVARIATES,
    MappingError,
    Spec,
    age_at,
    check_codes,
    check_instrument,
    check_site,
    number_text,
    parse_date,
    pseudonym,
    spec,
)
from pipeline.adapters.drop import Conversion, Report, SourceCount
from pipeline.adapters.fhir_read import Resources, as_list, codings, first_date, has_code, read_folder

LOINC = "http://loinc.org"
ODI_LOINC = "97909-6"
PAIN_NRS_LOINC = "72514-3"
# SNOMED CT body sites that tell a pain score's region (Observation.bodySite); the text is matched too.
# A starting set; a site extends it with `body_site = {...}` on its own [[observation]] for 72514-3.
BACK_SITES = {"77568009", "1141985005"}  # structure of back of trunk; of lumbar vertebral column region
LEG_SITES = {"61685007", "30021000"}  # lower limb structure; lower leg structure
UCUM_UNITS = {"m": "m", "[ft_i]": "ft", "ft": "ft", "km": "km", "[mi_i]": "mi", "mi": "mi", "min": "min",
              "h": "h"}
GENDER = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
DONE_QR = {"completed", "amended"}
DONE_OBS = {"final", "amended", "corrected"}
DONE_PROCEDURE = {"completed", "in-progress", None}


@dataclass
class ObsRule:
    key: str
    code: str
    system: str | None
    instrument: str | None  # None: told by body site
    body_site: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    unit_map: dict[str, str] = field(default_factory=dict)


@dataclass
class QRule:
    key: str
    questionnaire: str
    items: dict[str, tuple[str, str | None]]  # linkId -> (instrument, unit)


@dataclass
class FhirMapping:
    site: str
    salt: str
    index_codes: list[tuple[str, str | None]]
    patients: dict[str, Spec]
    observations: list[ObsRule]
    questionnaires: list[QRule]
    procedure_events: dict[str, str]  # procedure code -> contract event
    death: bool
    window: tuple[int, int] | None


def _codes(key: str, value: object) -> list[tuple[str, str | None]]:
    out = []
    for v in as_list(value):
        if isinstance(v, str):
            out.append((v, None))
        elif isinstance(v, dict) and "code" in v:
            out.append((str(v["code"]), v.get("system")))
        else:
            raise MappingError(f"{key}: give codes as \"code\" or {{system = ..., code = ...}}")
    if not out:
        raise MappingError(f"{key}: at least one code")
    return out


def parse_mapping(doc: dict) -> FhirMapping:
    known = {"format", "site_id", "ids", "index", "patients", "observation", "questionnaire", "procedure_events",
             "death", "window_days", "default_codes"}
    if unknown := set(doc) - known:
        raise MappingError(f"unknown top-level key(s) {sorted(unknown)}; known: {sorted(known)}")
    if "site_id" not in doc:
        raise MappingError("site_id: required")
    site = check_site(str(doc["site_id"]))
    salt = str(doc.get("ids", {}).get("salt", ""))
    if len(salt) < 16:
        raise MappingError("ids.salt: FHIR ids are server or record numbers and are always pseudonymised; give a "
                           "secret salt of at least 16 characters (keep it at the site)")
    if "index" not in doc or "procedure" not in doc["index"]:
        raise MappingError("index.procedure: the code(s) of the index Procedure")
    pats = dict(doc.get("patients", {}))
    allowed = {"procedure", *COVARIATES}
    if unknown := set(pats) - allowed:
        raise MappingError(f"patients: unknown column(s) {sorted(unknown)}; known: {sorted(allowed)}")
    patients = {k: spec(f"patients.{k}", v) for k, v in pats.items()}
    if "procedure" not in patients:
        raise MappingError("patients.procedure: a constant, or {field = \"Procedure.code\", map = {...}}")
    for col in ("procedure", "sex", "anesthesia"):
        if col in patients:
            check_codes(patients[col], col)
    observations = []
    for i, o in enumerate(doc.get("observation", [])):
        key = f"observation[{i}]"
        if "code" not in o or ("instrument" in o) == ("body_site" in o):
            raise MappingError(f"{key}: give code and exactly one of instrument and body_site")
        rule = ObsRule(key, str(o["code"]), o.get("system"), o.get("instrument"),
                       {str(k): str(v) for k, v in o.get("body_site", {}).items()}, o.get("unit"),
                       {str(k): str(v) for k, v in o.get("unit_map", {}).items()})
        for ins in [rule.instrument] if rule.instrument else rule.body_site.values():
            check_instrument(key, ins, rule.unit, "valueQuantity" if o.get("unit_from_quantity") else None)
        observations.append(rule)
    if doc.get("default_codes", True):
        mapped = {o.code for o in observations}
        if ODI_LOINC not in mapped:
            observations.append(ObsRule("default ODI", ODI_LOINC, None, "ODI"))
        if PAIN_NRS_LOINC not in mapped:
            observations.append(ObsRule("default pain NRS", PAIN_NRS_LOINC, None, None,
                                        {**dict.fromkeys(BACK_SITES, "NRS_BACK"),
                                         **dict.fromkeys(LEG_SITES, "NRS_LEG")}))
    questionnaires = []
    for i, q in enumerate(doc.get("questionnaire", [])):
        key = f"questionnaire[{i}]"
        if "questionnaire" not in q or not q.get("values"):
            raise MappingError(f"{key}: give questionnaire = \"<id or canonical URL>\" and values = {{...}}")
        items = {}
        for ins, v in q["values"].items():
            item = v if isinstance(v, str) else v.get("item")
            unit = None if isinstance(v, str) else v.get("unit")
            check_instrument(f"{key}.values.{ins}", ins, unit, None)
            if not item:
                raise MappingError(f"{key}.values.{ins}: name the item's linkId")
            items[str(item)] = (ins, unit)
        questionnaires.append(QRule(key, str(q["questionnaire"]), items))
    proc_events = {}
    for code, ev in doc.get("procedure_events", {}).items():
        if ev not in contract.EVENTS:
            raise MappingError(f"procedure_events.{code}: {ev!r} is not a contract event")
        proc_events[str(code)] = ev
    window = doc.get("window_days")
    return FhirMapping(site, salt, _codes("index.procedure", doc["index"]["procedure"]), patients, observations,
                       questionnaires, proc_events, bool(doc.get("death", True)),
                       (int(window[0]), int(window[1])) if window else None)


def _q_key(ref: object) -> str:
    """A questionnaire reference (R4 canonical string, STU3 Reference, URL with |version) -> its last segment."""
    if isinstance(ref, dict):
        ref = ref.get("reference") or ref.get("identifier", {}).get("value") or ""
    text = str(ref or "").split("|")[0].rstrip("/")
    return text.rsplit("/", 1)[-1]


def check_questionnaires(m: FhirMapping, res: Resources, report: Report) -> None:
    """A mapped linkId must exist in its Questionnaire when the export holds that Questionnaire."""
    known: dict[str, set[str]] = {}
    for q in res.of_type("Questionnaire"):
        ids = _link_ids(q.get("item"))
        for k in {str(q.get("id") or ""), _q_key(q.get("url"))} - {""}:
            known.setdefault(k, set()).update(ids)
    for rule in m.questionnaires:
        link_ids = known.get(_q_key(rule.questionnaire))
        if link_ids is None:
            report.notes.append(f"{rule.key}: the export holds no Questionnaire {_q_key(rule.questionnaire)!r}; "
                                "item ids not checked")
            continue
        for item in rule.items:
            if item not in link_ids:
                raise MappingError(f"{rule.key}: item {item!r} does not exist in questionnaire "
                                   f"{_q_key(rule.questionnaire)!r}")


def _link_ids(items: object) -> set[str]:
    out = set()
    for it in as_list(items):
        if isinstance(it, dict):
            if "linkId" in it:
                out.add(str(it["linkId"]))
            out |= _link_ids(it.get("item"))
    return out


def _answers(items: object) -> list[tuple[str, object]]:
    """(linkId, first answer) of every answered item, nested items included."""
    out = []
    for it in as_list(items):
        if not isinstance(it, dict):
            continue
        answers = [a for a in as_list(it.get("answer")) if isinstance(a, dict)]
        if answers:
            out.append((str(it.get("linkId")), answers[0]))
        out += _answers(it.get("item"))
        for a in answers:
            out += _answers(a.get("item"))
    return out


def _value(holder: dict) -> tuple[str | None, str | None]:
    """A numeric value and its unit code from value[x]: integer, decimal, Quantity, Coding code or a number in a
    string (text that is not a number is never returned)."""
    for k in ("valueInteger", "valueDecimal"):
        if k in holder:
            return number_text(holder[k]), None
    q = holder.get("valueQuantity")
    if isinstance(q, dict):
        return number_text(q.get("value")), q.get("code") or q.get("unit")
    for c in as_list(holder.get("valueCoding")):
        if isinstance(c, dict):
            return number_text(c.get("code")), None
    cc = holder.get("valueCodeableConcept")
    if cc is not None:
        for c in codings(cc):
            return number_text(c.get("code")), None
    if "valueString" in holder:
        return number_text(holder["valueString"]), None
    return None, None


def _subject(r: dict) -> object:
    return r.get("subject") or r.get("patient")


def _encounter_date(res: Resources, r: dict) -> str | None:
    enc = res.resolve(r.get("encounter") or r.get("context"), r, "Encounter")
    return first_date(enc, "period") if enc else None


@dataclass
class _Patient:
    pid: str
    index: date
    procedure_code: str | None
    row: dict


def convert(res: Resources, m: FhirMapping) -> Conversion:
    report = Report("fhir")
    check_questionnaires(m, res, report)
    if res.unreadable:
        report.notes.append(f"{res.unreadable} file(s) or NDJSON line(s) were not JSON and were not read")
    index_proc: dict[int, tuple[date, dict]] = {}  # id(Patient) -> earliest index procedure
    proc_src = report.source("resource:Procedure")
    procs = []
    for p in res.of_type("Procedure"):
        pat = res.resolve(_subject(p), p, "Patient")
        day = parse_date(first_date(p, "performedDateTime", "performedPeriod", "performedString")
                         or _encounter_date(res, p))
        is_index = any(has_code(p.get("code"), c, s) for c, s in m.index_codes)
        procs.append((p, pat, day, is_index))
        if is_index and pat is not None and day is not None and p.get("status") in DONE_PROCEDURE:
            best = index_proc.get(id(pat))
            if best is None or day < best[0]:
                index_proc[id(pat)] = (day, p)
    patients: dict[int, _Patient] = {}
    pat_src = report.source("resource:Patient")
    for pat in res.of_type("Patient"):
        found = index_proc.get(id(pat))
        if found is None:
            pat_src.add("no_date")
            continue
        day, proc = found
        key = f"Patient/{pat.get('id')}" if pat.get("id") is not None else repr(sorted(pat))
        patients[id(pat)] = _Patient(pseudonym(m.salt, key), day, _proc_code(proc, m), {})
        pat_src.add(None)
    pros, events = [], []
    for p, pat, day, is_index in procs:
        info = patients.get(id(pat)) if pat is not None else None
        code = next((c for c in (str(x.get("code")) for x in codings(p.get("code"))) if c in m.procedure_events),
                    None)
        if is_index and info is not None and index_proc.get(id(pat), (None, None))[1] is p:
            proc_src.add(None)
        elif code is None:
            proc_src.add("unmapped")
        elif info is None:
            proc_src.add("unresolved_reference")
        elif day is None:
            proc_src.add("no_date")
        else:
            events.append(_event_row(m, info, (day - info.index).days, m.procedure_events[code]))
            proc_src.add(None)
    if m.death:
        for pat in res.of_type("Patient"):
            info = patients.get(id(pat))
            died = parse_date(pat.get("deceasedDateTime"))
            if info is not None and died is not None:
                events.append(_event_row(m, info, (died - info.index).days, "DEATH"))
    covariate_obs = _patient_rows(res, m, patients, report)
    pros += _questionnaire_rows(res, m, patients, report)
    pros += _observation_rows(res, m, patients, report, covariate_obs)
    pats = pd.DataFrame([p.row for p in patients.values()], columns=contract.COLUMNS["patients"])
    pro_df = pd.DataFrame(pros, columns=contract.COLUMNS["pro_responses"])
    ev_df = pd.DataFrame(events, columns=contract.COLUMNS["events"])
    report.rows = {"patients": len(pats), "pro_responses": len(pro_df), "events": len(ev_df)}
    return Conversion(pats, pro_df, ev_df, report)


def _proc_code(proc: dict, m: FhirMapping) -> str | None:
    spec_ = m.patients["procedure"]
    if spec_.constant is not None:
        return spec_.constant
    for c in codings(proc.get("code")):
        if str(c.get("code")) in spec_.map:
            return spec_.map[str(c.get("code"))]
    return None


def _event_row(m: FhirMapping, info: _Patient, days: int, event: str) -> dict:
    return {"site_id": m.site, "patient_id": info.pid, "days_from_index": str(days), "event": event, "detail": ""}


def _patient_rows(res: Resources, m: FhirMapping, patients: dict[int, _Patient], report: Report) -> dict[int, str]:
    """Fill each patient row; returns id(Observation) -> 'covariate' or 'not_index_value' for covariate codes."""
    by_code: dict[str, list[tuple[dict, dict, date]]] = {}
    cov_codes = {s.source for c, s in m.patients.items() if s.source and c not in ("procedure",)
                 and not s.source.startswith("Patient.")}
    seen_codes = set()
    for o in res.of_type("Observation"):
        for c in codings(o.get("code")):
            code = str(c.get("code"))
            if code in cov_codes:
                seen_codes.add(code)
                pat = res.resolve(_subject(o), o, "Patient")
                day = parse_date(first_date(o, "effectiveDateTime", "effectivePeriod", "effectiveInstant")
                                 or _encounter_date(res, o))
                if pat is not None and day is not None and o.get("status", "final") in DONE_OBS:
                    by_code.setdefault(code, []).append((o, pat, day))
    used: dict[int, str] = {}
    for code in cov_codes:
        for o, *_ in by_code.get(code, []):
            used[id(o)] = "not_index_value"
    report.never_seen |= cov_codes - seen_codes
    for pat in res.of_type("Patient"):
        info = patients.get(id(pat))
        if info is None:
            continue
        birth = parse_date(pat.get("birthDate"))
        row = {"site_id": m.site, "patient_id": info.pid, "procedure": info.procedure_code or "",
               "index_year": str(info.index.year), "age_at_index": "" if birth is None else
               str(age_at(birth, info.index))}
        if info.procedure_code is None:
            report.notes.append("an index Procedure code is not in patients.procedure.map (procedure left empty)")
        row["sex"] = GENDER.get(str(pat.get("gender")), "U")  # an absent gender is an unknown one
        for col, s in m.patients.items():
            if col == "procedure":
                continue
            if s.constant is not None:
                row[col] = s.constant
            elif s.source == "Patient.gender":
                row[col] = s.map.get(str(pat.get("gender")), "") if s.map else GENDER.get(str(pat.get("gender")), "")
            else:
                # the latest observation on or before the index day (a baseline covariate)
                cands = [(d, o) for o, p, d in by_code.get(s.source, []) if p is pat and d <= info.index]
                if cands:
                    d, o = max(cands, key=lambda t: t[0])
                    used[id(o)] = "covariate"
                    value, _ = _value(o)
                    if s.map:
                        value = next((s.map[str(c.get("code"))] for c in codings(o.get("valueCodeableConcept"))
                                      if str(c.get("code")) in s.map), None)
                    row[col] = value or ""
        info.row = row
    return used


def _in_window(m: FhirMapping, days: int) -> bool:
    return m.window is None or m.window[0] <= days <= m.window[1]


def _patient_day(res: Resources, m: FhirMapping, patients: dict[int, _Patient], r: dict, own_date: str | None,
                 src: SourceCount) -> tuple[_Patient, int] | None:
    """The converted patient of a PRO resource and its day from index (its own date, else its encounter's);
    None, with the reason counted on `src`, when the subject is not a converted patient, there is no date or
    the day lies outside the mapping's window."""
    pat = res.resolve(_subject(r), r, "Patient")
    info = patients.get(id(pat)) if pat is not None else None
    if info is None:
        src.add("unresolved_reference")
        return None
    day = parse_date(own_date or _encounter_date(res, r))
    if day is None:
        src.add("no_date")
        return None
    days = (day - info.index).days
    if not _in_window(m, days):
        src.add("outside_window")
        return None
    return info, days


def _questionnaire_rows(res: Resources, m: FhirMapping, patients: dict[int, _Patient], report: Report) -> list:
    src = report.source("resource:QuestionnaireResponse")
    rules = {_q_key(r.questionnaire): r for r in m.questionnaires}
    seen: set[tuple[str, str]] = set()
    rows = []
    for qr in res.of_type("QuestionnaireResponse"):
        rule = rules.get(_q_key(qr.get("questionnaire")))
        if rule is None:
            src.add("unmapped")
            continue
        answers = {k: a for k, a in reversed(_answers(qr.get("item"))) if k in rule.items}
        for k in answers:
            seen.add((rule.key, k))
        if qr.get("status") not in DONE_QR:
            src.add("incomplete_form")
            continue
        dated = _patient_day(res, m, patients, qr, qr.get("authored"), src)
        if dated is None:
            continue
        info, days = dated
        out = []
        for link, (ins, unit) in sorted(rule.items.items()):
            if link in answers:
                value, _ = _value(answers[link])
                if value is None:
                    report.not_numeric[f"{rule.key}.{link}"] += 1
                    continue
                out.append({"site_id": m.site, "patient_id": info.pid, "days_from_index": str(days),
                            "instrument": ins, "value": value, "unit": unit or ""})
        src.add(None if out else "no_value")
        rows += out
    for rule in m.questionnaires:
        report.never_seen |= {f"{_q_key(rule.questionnaire)}#{k}" for k in rule.items if (rule.key, k) not in seen}
    return rows


def _obs_instrument(rule: ObsRule, o: dict) -> str | None:
    if rule.instrument:
        return rule.instrument
    for site in as_list(o.get("bodySite")):
        for c in codings(site):
            if str(c.get("code")) in rule.body_site:
                return rule.body_site[str(c.get("code"))]
        text = str(site.get("text", "")).lower() if isinstance(site, dict) else ""
        if rule.body_site and ("back" in text or "lumbar" in text):
            return "NRS_BACK" if "NRS_BACK" in rule.body_site.values() else None
        if rule.body_site and "leg" in text:
            return "NRS_LEG" if "NRS_LEG" in rule.body_site.values() else None
    return None


def _observation_rows(res: Resources, m: FhirMapping, patients: dict[int, _Patient], report: Report,
                      covariate_obs: dict[int, str]) -> list:
    src = report.source("resource:Observation")
    seen = set()
    rows = []
    for o in res.of_type("Observation"):
        if id(o) in covariate_obs:
            state = covariate_obs[id(o)]
            src.add(None if state == "covariate" else "not_index_value")
            continue
        rule = next((r for r in m.observations if has_code(o.get("code"), r.code, r.system)), None)
        if rule is None:
            src.add("unmapped")
            continue
        seen.add(rule.key)
        ins = _obs_instrument(rule, o)
        if ins is None:
            src.add("unmapped")  # a pain score whose body site does not tell back from leg
            continue
        if o.get("status", "final") not in DONE_OBS:
            src.add("incomplete_form")
            continue
        dated = _patient_day(res, m, patients, o,
                             first_date(o, "effectiveDateTime", "effectivePeriod", "effectiveInstant"), src)
        if dated is None:
            continue
        info, days = dated
        value, unit_code = _value(o)
        if value is None:
            src.add("no_value")
            continue
        unit = ""
        if ins in contract.CANONICAL_UNIT:
            unit = rule.unit or rule.unit_map.get(str(unit_code)) or UCUM_UNITS.get(str(unit_code), "")
        rows.append({"site_id": m.site, "patient_id": info.pid, "days_from_index": str(days), "instrument": ins,
                     "value": value, "unit": unit})
        src.add(None)
    report.never_seen |= {f"Observation {r.code}" for r in m.observations
                          if r.key not in seen and not r.key.startswith("default")}
    return rows


def run(folder: Path, doc: dict) -> Conversion:
    return convert(read_folder(folder), parse_mapping(doc))
