"""Shared helpers of the adapter tests: the public fixtures, their test mappings, and what must never leak."""

from __future__ import annotations

import csv
import json
import re
import tomllib
from pathlib import Path

from pipeline.adapters.drop import Conversion

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "adapters"
MAPPINGS = HERE / "adapters_mappings"
REDCAP_LONG = FIXTURES / "redcap" / "redcapr-longitudinal"
REDCAP_SINGLE = FIXTURES / "redcap" / "redcapr-arm-single-longitudinal"
SMART = FIXTURES / "fhir" / "smart-proms-stu3"
SYNTHEA = FIXTURES / "fhir" / "synthea-r4-pain-nrs"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mapping(name: str) -> dict:
    return tomllib.loads((MAPPINGS / name).read_text())


def convert(kind: str, doc: dict, source: Path) -> Conversion:
    from pipeline.adapters.__main__ import convert as run

    return run(kind, doc, source)


def rows(conv: Conversion, table: str) -> list[dict]:
    return getattr(conv, table).fillna("").astype(str).to_dict("records")


def redcap_secrets(folder: Path) -> set[str]:
    """Every value of an identifier field, a date field or a free-text field of a REDCap export, and every
    date-shaped text anywhere in it."""
    with open(folder / "dictionary.csv", encoding="utf-8-sig") as fh:
        fields = list(csv.DictReader(fh))
    name = "Variable / Field Name" if "Variable / Field Name" in fields[0] else "field_name"
    ident = "Identifier?" if "Identifier?" in fields[0] else "identifier"
    vtype = next(k for k in fields[0] if k.startswith("Text Validation Type") or k.startswith("text_validation"))
    ftype = "Field Type" if "Field Type" in fields[0] else "field_type"
    secret_fields = {f[name] for f in fields if f[ident].strip().lower() == "y" or f[vtype].startswith("date")
                     or f[ftype] in ("notes", "file") or "phone" in f[name] or "name" in f[name]}
    out: set[str] = set()
    with open(folder / "data.csv" if (folder / "data.csv").exists() else folder / "records.csv",
              encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            out |= {v for k, v in row.items() if k in secret_fields and v}
            out |= {m for v in row.values() for m in DATE.findall(v or "")}
    return out


def fhir_secrets(folder: Path) -> set[str]:
    """Patient names, telecoms, addresses, birth dates, identifiers and ids, resource ids, and every date."""
    out: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        text = path.read_text()
        out |= set(DATE.findall(text))
        doc = json.loads(text)
        for entry in doc.get("entry", [doc]):
            res = entry.get("resource", entry)
            if res.get("id") and res.get("resourceType") not in ("Questionnaire", "ValueSet"):
                out.add(str(res["id"]))
            if res.get("resourceType") != "Patient":
                continue
            for n in res.get("name", []):
                out |= {n.get("family", ""), *n.get("given", [])}
            out |= {t.get("value", "") for t in res.get("telecom", [])}
            out |= {i.get("value", "") for i in res.get("identifier", [])}
            for a in res.get("address", []):
                out |= {*a.get("line", []), a.get("city", ""), a.get("postalCode", "")}
    return {s for s in out if s and len(s) >= 4}


def output_text(root: Path) -> str:
    """Every file the adapter wrote under root (drop files, manifest, side report)."""
    return "\n".join(p.read_text() for p in sorted(root.rglob("*")) if p.is_file())
