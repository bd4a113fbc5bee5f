"""What both adapters share: mapping errors, numbers, dates, value specs and the site-side id pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from pipeline import contract

# Contract columns of patients.csv that an adapter fills from a mapping (the keys, procedure, index_year
# and age_at_index are derived separately).
COVARIATES = tuple(c for c in contract.COLUMNS["patients"]
                   if c not in ("site_id", "patient_id", "procedure", "index_year", "age_at_index"))
# Covariates whose value is a code of the contract rather than a number.
CODED_COVARIATES = {"sex": contract.SEXES, "anesthesia": contract.ANESTHESIA}
UNIT_INSTRUMENTS = tuple(contract.CANONICAL_UNIT)
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


class MappingError(ValueError):
    """The mapping does not fit the export: names the mapping key and what is wrong, never a data value."""


def number_text(raw: object) -> str | None:
    """A plain decimal rendering of a numeric value (".423" -> "0.423", "30.0" -> "30"), or None when the value
    is not a number. Never clamps: the pipeline's quarantine judges the range. Text that is not a number is
    never returned, so free text cannot pass through a numeric field."""
    if raw is None or isinstance(raw, bool):
        return None
    text = str(raw)
    if not _NUMBER.match(text):
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    rendered = format(value.normalize(), "f")
    return "0" if rendered in ("-0", "+0") else rendered


def parse_date(raw: object, order: str = "ymd") -> date | None:
    """The calendar day of a date or date-time text (its local date part: a time zone is not applied, since the
    day the patient lived is the one written). order 'dmy' or 'mdy' reads REDCap's date_dmy / date_mdy."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        m = _DATE.match(raw)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _DMY.match(raw)
        if m and order in ("dmy", "mdy"):
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            return date(y, b, a) if order == "dmy" else date(y, a, b)
    except ValueError:
        return None
    return None


def age_at(birth: date, index: date) -> int:
    """Completed years at the index date, top-coded at 90 (HIPAA Safe Harbor); the birth date is never written."""
    years = index.year - birth.year - ((index.month, index.day) < (birth.month, birth.day))
    return min(years, contract.AGE_TOP_CODE)


def top_code_age(text: str | None) -> str | None:
    """An age given as a number, top-coded at 90 (ages over 89 are identifying)."""
    if text is None:
        return None
    value = Decimal(text)
    return str(contract.AGE_TOP_CODE) if value > contract.AGE_TOP_CODE else text


@dataclass(frozen=True)
class Spec:
    """Where one output value comes from: a field or item (`source`), a constant, or a code map."""

    key: str  # the mapping key, for error messages ("patients.sex")
    source: str | None = None
    constant: str | None = None
    map: dict[str, str] = field(default_factory=dict)
    event: tuple[str, ...] = ()
    labels: bool = False

    def coded(self, raw: str | None) -> str | None:
        """The output for a raw value: mapped code, or (without a map) the number itself."""
        if self.constant is not None:
            return self.constant
        if raw is None or raw == "":
            return None
        if self.map:
            return self.map.get(raw)
        return number_text(raw)


def spec(key: str, value: object) -> Spec:
    """A Spec from its TOML form: "field", {field=..., map=..., event=...}, {constant=...}."""
    if isinstance(value, str):
        return Spec(key, source=value)
    if not isinstance(value, dict):
        raise MappingError(f"{key}: give a field name, or a table with 'field' or 'constant'")
    unknown = set(value) - {"field", "item", "code", "constant", "map", "event", "labels", "unit", "unit_field",
                            "unit_map", "system"}
    if unknown:
        raise MappingError(f"{key}: unknown key(s) {sorted(unknown)}")
    source = value.get("field", value.get("item", value.get("code")))
    constant = value.get("constant")
    if (source is None) == (constant is None):
        raise MappingError(f"{key}: give exactly one of 'field' and 'constant'")
    events = value.get("event", ())
    return Spec(key, source=source, constant=None if constant is None else str(constant),
                map={str(k): str(v) for k, v in value.get("map", {}).items()},
                event=(events,) if isinstance(events, str) else tuple(events), labels=bool(value.get("labels")))


def check_codes(s: Spec, column: str) -> None:
    """A coded covariate must end as a contract code: through a map, or a constant that is one."""
    allowed = CODED_COVARIATES.get(column)
    if column == "procedure":
        targets = list(s.map.values()) + ([s.constant] if s.constant is not None else [])
        for t in targets:
            if not re.match(contract.PROCEDURE_PATTERN, t):
                raise MappingError(f"{s.key}: procedure code {t!r} is not an upper-case code [A-Z0-9_]")
        if s.source is not None and not s.map:
            raise MappingError(f"{s.key}: a procedure field needs a 'map' from its codes to procedure codes")
        return
    if allowed is None:
        return
    if s.source is not None and not s.map:
        raise MappingError(f"{s.key}: needs a 'map' from the field's codes to {list(allowed)}")
    for t in [*s.map.values(), *([s.constant] if s.constant is not None else [])]:
        if t not in allowed:
            raise MappingError(f"{s.key}: {t!r} is not one of {list(allowed)}")


def pseudonym(salt: str, raw_id: str, prefix: str = "P") -> str:
    """A keyed, stable pseudonym of a source id (HMAC-SHA256 with the site's secret salt, 16 hex digits).
    The same id and salt give the same pseudonym on every run; without the salt it cannot be reversed by
    hashing candidate MRNs."""
    digest = hmac.new(salt.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:16]
    return f"{prefix}{digest}"


def check_site(site: str) -> str:
    if not re.match(contract.SITE_ID_PATTERN, site):
        raise MappingError("site_id: must match [A-Za-z0-9._-]{1,32}")
    return site


def check_instrument(key: str, instrument: str, unit: str | None, unit_field: str | None) -> None:
    if instrument not in contract.INSTRUMENTS:
        raise MappingError(f"{key}: {instrument!r} is not a contract instrument ({', '.join(contract.INSTRUMENTS)})")
    units = contract.INSTRUMENTS[instrument].units
    if units and unit is None and unit_field is None:
        raise MappingError(f"{key}: {instrument} needs a unit: 'unit' (one of {list(units)}) or 'unit_field'")
    if unit is not None and unit not in units:
        raise MappingError(f"{key}: unit {unit!r} is not allowed for {instrument} ({list(units) or 'none'})")
