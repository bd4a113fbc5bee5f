"""A synthetic REDCap export of our own instruments, made from generated contract drops.

    python -m sample_data.redcap_export --landing <generated landing> --out DIR

Writes DIR/export/ (records.csv, dictionary.csv, events.csv, instrument_event_mapping.csv, as REDCap's API
exports them), DIR/mapping.toml (the site mapping that turns it back into a drop) and DIR/contract/<drop>/ (the
same rows as ONE contract drop: the generated drops concatenated, verbatim duplicates removed). A refresh
from the adapter's drop and one from DIR/contract must give the same results.

The project is a network project (one data access group per site), longitudinal with two events
(baseline_arm_1: enrolment form and pre-procedure assessments; followup_arm_1: later assessments and outcome
events), the assessment form `pro` and the form `outcome_event` repeating within events. Calendar dates are
made up: an index date per patient inside its index_year, a birth date that gives the delivered age at index,
assessment dates = index date + days. Realistic identifiers (an MRN marked Identifier? = y, free-text notes)
and a few incomplete form instances with values that must not come through are added, so the adapter's
filters are exercised at scale.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import contract

SEX = {"F": "1", "M": "2", "U": "3"}
ANESTHESIA = {"LOCAL_SEDATION": "1", "GENERAL": "2"}
WALK_UNITS = {"m": "1", "ft": "2", "km": "3", "mi": "4"}
STAND_UNITS = {"min": "1", "h": "2"}
EVENT_CODES = {e: str(i + 1) for i, e in enumerate(contract.EVENTS)}
PRO_FIELDS = {"ODI": "odi_score", "NRS_BACK": "nrs_back", "NRS_LEG": "nrs_leg", "ZCQ_SYMPTOM": "zcq_symptom",
              "ZCQ_FUNCTION": "zcq_function", "ZCQ_SATISFACTION": "zcq_satisfaction",
              "SATISFACTION": "nass_satisfaction", "WALK_DISTANCE": "walk_distance", "STAND_TIME": "stand_time"}
EVENTS = ("baseline_arm_1", "followup_arm_1")
INCOMPLETE_SHARE = 0.02  # patients with one extra, unfinished assessment (pro_complete = 0)


def _read(landing: Path, table: str) -> pd.DataFrame:
    frames = [pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False, na_filter=False)
              for d in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith("."))]
    return pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)


def _hash(values: pd.Series) -> np.ndarray:
    """A stable 32-bit number per id (pandas' fixed-key hash: independent of row order and of the Python hash
    seed)."""
    return (pd.util.hash_pandas_object(values, index=False).to_numpy() >> np.uint64(32)).astype(np.int64)


def _choices(mapping: dict[str, str]) -> str:
    return " | ".join(f"{code}, {label}" for label, code in mapping.items())


def dictionary(details: list[str]) -> pd.DataFrame:
    rows = [
        ("record_id", "enrolment", "text", "Record ID", "", "", ""),
        ("mrn", "enrolment", "text", "Medical record number", "", "", "y"),
        ("dob", "enrolment", "text", "Date of birth", "", "date_ymd", "y"),
        ("surgery_date", "enrolment", "text", "Date of index procedure", "", "date_ymd", ""),
        ("procedure", "enrolment", "radio", "Index procedure", "1, LAMINECTOMY | 2, MILD | 3, SPACER", "", ""),
        ("sex", "enrolment", "radio", "Sex", "1, Female | 2, Male | 3, Unknown", "", ""),
        ("bmi", "enrolment", "text", "BMI", "", "number", ""),
        ("diabetes", "enrolment", "yesno", "Diabetes", "", "", ""),
        ("smoker", "enrolment", "yesno", "Current smoker", "", "", ""),
        ("prior_esi", "enrolment", "yesno", "Prior epidural steroid injection", "", "", ""),
        ("symptom_months", "enrolment", "text", "Months of symptoms", "", "number", ""),
        ("levels_treated", "enrolment", "text", "Levels treated", "", "integer", ""),
        ("asa_class", "enrolment", "dropdown", "ASA class", "1, I | 2, II | 3, III | 4, IV | 5, V", "", ""),
        ("anesthesia", "enrolment", "radio", "Anesthesia", "1, Local with sedation | 2, General", "", ""),
        ("los_days", "enrolment", "text", "Length of stay (days)", "", "integer", ""),
        ("enrolment_notes", "enrolment", "notes", "Notes", "", "", ""),
        ("assess_date", "pro", "text", "Date of assessment", "", "date_ymd", ""),
        ("odi_score", "pro", "text", "ODI total (0-100)", "", "number", ""),
        ("nrs_back", "pro", "text", "Back pain NRS", "", "number", ""),
        ("nrs_leg", "pro", "text", "Leg pain NRS", "", "number", ""),
        ("zcq_symptom", "pro", "text", "ZCQ symptom severity", "", "number", ""),
        ("zcq_function", "pro", "text", "ZCQ physical function", "", "number", ""),
        ("zcq_satisfaction", "pro", "text", "ZCQ satisfaction", "", "number", ""),
        ("nass_satisfaction", "pro", "radio", "NASS satisfaction index",
         "1, Met my expectations | 2, Not as much as hoped, would do again | 3, Helped, would not do again | "
         "4, Same or worse", "", ""),
        ("walk_distance", "pro", "text", "Walking distance", "", "number", ""),
        ("walk_unit", "pro", "radio", "Unit", _choices(WALK_UNITS), "", ""),
        ("stand_time", "pro", "text", "Standing time", "", "number", ""),
        ("stand_unit", "pro", "radio", "Unit", _choices(STAND_UNITS), "", ""),
        ("event_date", "outcome_event", "text", "Date of event", "", "date_ymd", ""),
        ("event_type", "outcome_event", "radio", "Event", _choices(EVENT_CODES), "", ""),
        ("event_kind", "outcome_event", "dropdown", "Kind",
         " | ".join(f"{i + 1}, {d}" for i, d in enumerate(details)), "", ""),
    ]
    return pd.DataFrame(rows, columns=["field_name", "form_name", "field_type", "field_label",
                                       "select_choices_or_calculations", "text_validation_type_or_show_slider_number",
                                       "identifier"])


def build(landing: Path, out: Path) -> None:
    patients = _read(landing, "patients")
    pros = _read(landing, "pro_responses")
    events = _read(landing, "events")
    drop = out / "contract" / "2026-11-15_NETWORK"
    if out.exists():
        shutil.rmtree(out)
    drop.mkdir(parents=True)
    for name, frame in (("patients", patients), ("pro_responses", pros), ("events", events)):
        frame.to_csv(drop / f"{name}.csv", index=False, lineterminator="\n")

    # A record per (site, patient): the record id is the pseudonymous patient id (unique per site here).
    key = patients["site_id"] + "/" + patients["patient_id"]
    if key.duplicated().any() or patients["patient_id"].duplicated().any():
        raise ValueError("patient ids must be unique across sites for this export")
    h = _hash(key)
    year = patients["index_year"].astype(int).to_numpy()
    index = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1})) + pd.to_timedelta(h % 365, "D")
    age = patients["age_at_index"].astype(int).to_numpy()
    by, bm, bd = index.dt.year.to_numpy() - age, index.dt.month.to_numpy(), index.dt.day.to_numpy()
    bd = np.where((bm == 2) & (bd == 29), 28, bd)
    birth = pd.to_datetime(pd.DataFrame({"year": by, "month": bm, "day": bd})) - pd.to_timedelta((h >> 9) % 300, "D")
    index_of = pd.Series(index.to_numpy(), index=patients["patient_id"].to_numpy())
    dag = patients["site_id"].str.lower()

    base = pd.DataFrame({
        "record_id": patients["patient_id"], "redcap_event_name": EVENTS[0], "redcap_repeat_instrument": "",
        "redcap_repeat_instance": "", "redcap_data_access_group": dag,
        "mrn": [f"MRN{v:08d}" for v in h % 10**8], "dob": birth.dt.strftime("%Y-%m-%d"),
        "surgery_date": index.dt.strftime("%Y-%m-%d"),
        "procedure": patients["procedure"].map({"LAMINECTOMY": "1", "MILD": "2", "SPACER": "3"}).fillna(""),
        "sex": patients["sex"].map(SEX).fillna(""), "anesthesia": patients["anesthesia"].map(ANESTHESIA).fillna(""),
        "enrolment_notes": "Seen in clinic on " + index.dt.strftime("%d %B %Y") + ", call 555-867-5309",
        "enrolment_complete": "2",
    })
    for col in ("bmi", "diabetes", "smoker", "prior_esi", "symptom_months", "levels_treated", "asa_class",
                "los_days"):
        base[col] = patients[col]

    # PRO rows: one `pro` instance per (patient, day), numbered within its event.
    wide = pros.assign(field=pros["instrument"].map(PRO_FIELDS))
    table = wide.pivot_table(index=["patient_id", "days_from_index"], columns="field", values="value",
                             aggfunc="first", fill_value="").reset_index()
    units = wide[wide["unit"] != ""].pivot_table(index=["patient_id", "days_from_index"], columns="instrument",
                                                 values="unit", aggfunc="first", fill_value="").reset_index()
    table = table.merge(units, on=["patient_id", "days_from_index"], how="left").fillna("")
    table["walk_unit"] = table.get("WALK_DISTANCE", pd.Series("", index=table.index)).map(WALK_UNITS).fillna("")
    table["stand_unit"] = table.get("STAND_TIME", pd.Series("", index=table.index)).map(STAND_UNITS).fillna("")
    days = table["days_from_index"].astype(int)
    n_extra = int(len(patients) * INCOMPLETE_SHARE)
    extra = pd.DataFrame({"patient_id": patients["patient_id"].iloc[:n_extra].to_numpy(), "days_from_index": "7",
                          "odi_score": "99", "nrs_back": "10", "pro_complete": "0"})
    table["pro_complete"] = "2"
    table = pd.concat([table, extra], ignore_index=True).fillna("")
    days = table["days_from_index"].astype(int)
    table["redcap_event_name"] = np.where(days <= 0, EVENTS[0], EVENTS[1])
    table["assess_date"] = (table["patient_id"].map(index_of) + pd.to_timedelta(days, "D")).dt.strftime("%Y-%m-%d")
    table = table.sort_values(["patient_id", "redcap_event_name", "assess_date"], kind="mergesort")
    table["redcap_repeat_instance"] = (table.groupby(["patient_id", "redcap_event_name"]).cumcount() + 1).astype(str)
    table["redcap_repeat_instrument"] = "pro"
    table = table.rename(columns={"patient_id": "record_id"}).drop(
        columns=["days_from_index", "WALK_DISTANCE", "STAND_TIME"], errors="ignore")

    details = sorted(d for d in events["detail"].unique() if d)
    ev = pd.DataFrame({
        "record_id": events["patient_id"], "redcap_event_name": EVENTS[1], "redcap_repeat_instrument": "outcome_event",
        "event_date": (events["patient_id"].map(index_of)
                       + pd.to_timedelta(events["days_from_index"].astype(int), "D")).dt.strftime("%Y-%m-%d"),
        "event_type": events["event"].map(EVENT_CODES),
        "event_kind": events["detail"].map({d: str(i + 1) for i, d in enumerate(details)}).fillna(""),
        "outcome_event_complete": "2",
    })
    ev = ev.sort_values(["record_id", "event_date"], kind="mergesort")
    ev["redcap_repeat_instance"] = (ev.groupby("record_id").cumcount() + 1).astype(str)

    dag_of = pd.Series(dag.to_numpy(), index=patients["patient_id"].to_numpy())
    records = pd.concat([base, table, ev], ignore_index=True).fillna("")
    records["redcap_data_access_group"] = records["record_id"].map(dag_of)
    records["_e"] = records["redcap_event_name"].map({e: i for i, e in enumerate(EVENTS)})
    records["_f"] = records["redcap_repeat_instrument"].map({"": 0, "pro": 1, "outcome_event": 2})
    records["_i"] = pd.to_numeric(records["redcap_repeat_instance"], errors="coerce").fillna(0)
    records = records.sort_values(["record_id", "_e", "_f", "_i"], kind="mergesort")
    d = dictionary(details)
    columns = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
               "redcap_data_access_group"]
    for form in ("enrolment", "pro", "outcome_event"):
        columns += [f for f in d.loc[d["form_name"] == form, "field_name"] if f != "record_id"] + [f"{form}_complete"]
    export = out / "export"
    export.mkdir()
    records.reindex(columns=columns).fillna("").to_csv(export / "records.csv", index=False, lineterminator="\n")
    d.to_csv(export / "dictionary.csv", index=False, lineterminator="\n")
    pd.DataFrame({"event_name": ["Baseline", "Follow-up"], "arm_num": 1, "unique_event_name": EVENTS}).to_csv(
        export / "events.csv", index=False, lineterminator="\n")
    pd.DataFrame({"arm_num": 1, "unique_event_name": [EVENTS[0], EVENTS[0], EVENTS[1], EVENTS[1]],
                  "form": ["enrolment", "pro", "pro", "outcome_event"]}).to_csv(
        export / "instrument_event_mapping.csv", index=False, lineterminator="\n")
    sites = sorted(patients["site_id"].unique())
    (out / "mapping.toml").write_text(MAPPING.format(
        sites=", ".join(f'"{s.lower()}" = "{s}"' for s in sites)), encoding="utf-8")


MAPPING = """# Site mapping of the synthetic REDCap export (sample_data/redcap_export.py).
format = "redcap"
site = {{ field = "redcap_data_access_group", map = {{ {sites} }} }}

[index]
date = "surgery_date"
event = "baseline_arm_1"

[patients]
birth_date = "dob"
procedure = {{ field = "procedure", map = {{ "1" = "LAMINECTOMY", "2" = "MILD", "3" = "SPACER" }} }}
sex = {{ field = "sex", map = {{ "1" = "F", "2" = "M", "3" = "U" }} }}
anesthesia = {{ field = "anesthesia", map = {{ "1" = "LOCAL_SEDATION", "2" = "GENERAL" }} }}
bmi = "bmi"
diabetes = "diabetes"
smoker = "smoker"
prior_esi = "prior_esi"
symptom_months = "symptom_months"
levels_treated = "levels_treated"
asa_class = "asa_class"
los_days = "los_days"

[[pro]]
form = "pro"
date = "assess_date"

[pro.values]
ODI = "odi_score"
NRS_BACK = "nrs_back"
NRS_LEG = "nrs_leg"
ZCQ_SYMPTOM = "zcq_symptom"
ZCQ_FUNCTION = "zcq_function"
ZCQ_SATISFACTION = "zcq_satisfaction"
SATISFACTION = "nass_satisfaction"
STAND_TIME = {{ field = "stand_time", unit_field = "stand_unit", unit_map = {{ "1" = "min", "2" = "h" }} }}

[pro.values.WALK_DISTANCE]
field = "walk_distance"
unit_field = "walk_unit"
unit_map = {{ "1" = "m", "2" = "ft", "3" = "km", "4" = "mi" }}

[[events]]
form = "outcome_event"
date = "event_date"
code = {{ field = "event_type", map = {{ {events} }} }}
detail = {{ field = "event_kind", labels = true }}
""".replace("{events}", ", ".join(f'"{c}" = "{e}"' for e, c in EVENT_CODES.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sample_data.redcap_export", description=__doc__.split("\n")[0])
    parser.add_argument("--landing", type=Path, required=True, help="a landing written by sample_data.generate")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    build(args.landing, args.out)


if __name__ == "__main__":
    main()
