"""Reading FHIR JSON as exported in the wild: Bundles (any type), single resources and NDJSON, R4 and STU3.

Plain json (no FHIR model library): real exports break model validation (a `coding` object instead of a list,
system URLs spelled differently), and the adapter needs only a few paths. Decimals are kept exactly
(parse_float=Decimal), so a value is written with the digits the source holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass
class Resources:
    """Every resource of the input, indexed for reference resolution."""

    items: list[dict] = field(default_factory=list)  # in file order, bundles flattened
    by_key: dict[str, dict] = field(default_factory=dict)  # "Type/id" and fullUrl -> resource
    unreadable: int = 0

    def add(self, res: dict, full_url: str | None = None) -> None:
        if not isinstance(res, dict) or "resourceType" not in res:
            return
        self.items.append(res)
        if res.get("id") is not None:
            self.by_key.setdefault(f"{res['resourceType']}/{res['id']}", res)
        if full_url:
            self.by_key.setdefault(full_url, res)
            tail = _tail(full_url)
            if tail:
                self.by_key.setdefault(tail, res)

    def of_type(self, kind: str) -> list[dict]:
        return [r for r in self.items if r.get("resourceType") == kind]

    def resolve(self, ref: object, holder: dict | None = None, kind: str | None = None) -> dict | None:
        """The resource a Reference points to: 'Type/id', absolute URL, urn:uuid, '#contained' or versioned."""
        if isinstance(ref, dict):
            ref = ref.get("reference")
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("#"):
            for c in (holder or {}).get("contained", []) or []:
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    return c if kind is None or c.get("resourceType") == kind else None
            return None
        found = self.by_key.get(ref) or self.by_key.get(_tail(ref) or "")
        if found is not None and kind is not None and found.get("resourceType") != kind:
            return None
        return found


def _tail(ref: str) -> str | None:
    """'http://x/fhir/Patient/12/_history/3' -> 'Patient/12'."""
    parts = [p for p in ref.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def _walk(res: Resources, doc: object) -> None:
    if isinstance(doc, list):
        for d in doc:
            _walk(res, d)
        return
    if not isinstance(doc, dict):
        return
    if doc.get("resourceType") == "Bundle":
        for entry in doc.get("entry", []) or []:
            if isinstance(entry, dict):
                inner = entry.get("resource")
                if isinstance(inner, dict) and inner.get("resourceType") == "Bundle":
                    _walk(res, inner)
                else:
                    res.add(inner, entry.get("fullUrl"))
        return
    res.add(doc)


def read_folder(folder: Path) -> Resources:
    """All *.json and *.ndjson files under folder (sorted, so the result does not depend on listing order)."""
    res = Resources()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".json", ".ndjson"))
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() == ".ndjson":
            for line in text.splitlines():
                if line.strip():
                    try:
                        _walk(res, json.loads(line, parse_float=Decimal))
                    except json.JSONDecodeError:
                        res.unreadable += 1
            continue
        try:
            _walk(res, json.loads(text, parse_float=Decimal))
        except json.JSONDecodeError:
            res.unreadable += 1
    return res


def as_list(value: object) -> list:
    """FHIR lists that real exports write as a single object (a `coding` object, one `answer`)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def codings(concept: object) -> list[dict]:
    """The codings of a CodeableConcept (tolerates `coding` as an object, or a bare Coding)."""
    if not isinstance(concept, dict):
        return []
    if "coding" in concept:
        return [c for c in as_list(concept["coding"]) if isinstance(c, dict)]
    return [concept] if "code" in concept else []


def has_code(concept: object, code: str, system: str | None = None) -> bool:
    return any(str(c.get("code")) == code and (system is None or c.get("system") == system)
               for c in codings(concept))


def first_date(res: dict, *paths: str) -> str | None:
    for p in paths:
        v = res.get(p)
        if isinstance(v, str) and v:
            return v
        if isinstance(v, dict):
            start = v.get("start") or v.get("end")
            if isinstance(start, str) and start:
                return start
    return None
