"""The landing data contract (version 1) as data: tables, columns, codes, ranges and reason codes.

Everything that validates, generates or documents drops reads these constants, so the contract is
written down once (see ../shared/data-contract.md for the prose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTRACT_VERSION = "1"

DROP_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
SITE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"
PATIENT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
PROCEDURE_PATTERN = r"^[A-Z0-9_]{1,32}$"

TABLES = ("patients", "pro_responses", "events")
OPTIONAL_TABLES = ("erasures",)

# Required columns per table, in the order the warehouse stores them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": (
        "site_id", "patient_id", "procedure", "index_year", "age_at_index", "sex", "bmi", "diabetes",
        "smoker", "prior_esi", "symptom_months", "levels_treated", "asa_class", "anesthesia", "los_days",
    ),
    "pro_responses": ("site_id", "patient_id", "days_from_index", "instrument", "value", "unit"),
    "events": ("site_id", "patient_id", "days_from_index", "event", "detail"),
    "erasures": ("site_id", "patient_id"),
}

# Columns that may be empty (every other column is required per row).
NULLABLE: dict[str, frozenset[str]] = {
    "patients": frozenset(
        {"bmi", "diabetes", "smoker", "prior_esi", "symptom_months", "asa_class", "anesthesia", "los_days"}
    ),
    "pro_responses": frozenset({"unit"}),
    "events": frozenset({"detail"}),
    "erasures": frozenset(),
}

AGE_TOP_CODE = 90


@dataclass(frozen=True)
class Instrument:
    code: str
    meaning: str
    low: float
    high: float
    lower_is_better: bool
    post_only: bool = False
    integer: bool = False
    units: tuple[str, ...] = ()


INSTRUMENTS: dict[str, Instrument] = {
    i.code: i
    for i in (
        Instrument("ODI", "Oswestry Disability Index", 0, 100, True),
        Instrument("NRS_BACK", "Back pain (NRS)", 0, 10, True),
        Instrument("NRS_LEG", "Leg pain (NRS)", 0, 10, True),
        Instrument("ZCQ_SYMPTOM", "ZCQ symptom severity", 1, 5, True),
        Instrument("ZCQ_FUNCTION", "ZCQ physical function", 1, 4, True),
        Instrument("ZCQ_SATISFACTION", "ZCQ satisfaction", 1, 4, True, post_only=True),
        Instrument("SATISFACTION", "NASS satisfaction index", 1, 4, True, post_only=True, integer=True),
        # Ranges of the two unit-bearing instruments are in canonical units (metres, minutes).
        Instrument("WALK_DISTANCE", "Walking distance (m)", 0, 50_000, False, units=("m", "ft", "km", "mi")),
        Instrument("STAND_TIME", "Standing time (min)", 0, 24 * 60, False, units=("min", "h")),
    )
}

# Factor that converts a unit to the instrument's canonical unit (SAP section 3).
UNIT_FACTORS: dict[str, float] = {
    "m": 1.0, "ft": 0.3048, "km": 1000.0, "mi": 1609.344,
    "min": 1.0, "h": 60.0,
}
CANONICAL_UNIT = {"WALK_DISTANCE": "m", "STAND_TIME": "min"}

EVENTS = (
    "REINTERVENTION_SURGERY", "REPEAT_MILD", "INJECTION", "COMPLICATION", "RETURN_TO_ACTIVITY",
    "DEATH", "LAST_CONTACT", "WITHDRAWN",
)
SEXES = ("F", "M", "U")
ANESTHESIA = ("LOCAL_SEDATION", "GENERAL")
DETAIL_MAX_CHARS = 200

# Integer and float ranges of the patients table: column -> (low, high, integer?).
PATIENT_RANGES: dict[str, tuple[float, float, bool]] = {
    "index_year": (1990, 2100, True),
    "age_at_index": (18, 90, True),  # values over 90 are top-coded, not rejected
    "bmi": (12, 80, False),
    "diabetes": (0, 1, True),
    "smoker": (0, 1, True),
    "prior_esi": (0, 1, True),
    "symptom_months": (0, 600, False),
    "levels_treated": (1, 5, True),
    "asa_class": (1, 5, True),
    "los_days": (0, 120, True),
}
PRO_DAY_RANGE = (-365, 3650)
EVENT_DAY_RANGE = (0, 3650)

# Column names that denote a direct identifier: a drop with such a column is rejected whole.
IDENTIFIER_COLUMN_WORDS = frozenset({
    "name", "names", "firstname", "lastname", "surname", "givenname", "fullname", "forename", "middlename",
    "mrn", "medicalrecord", "medicalrecordnumber", "ssn", "socialsecurity", "socialsecuritynumber",
    "dob", "dateofbirth", "birthdate", "birthday", "birth", "address", "street", "city", "zip", "zipcode",
    "postcode", "postalcode", "phone", "phonenumber", "telephone", "tel", "mobile", "cell", "fax", "email",
    "mail", "ip", "ipaddress", "url", "uri", "website", "deviceserial", "serial", "serialnumber", "license",
    "licence", "licensenumber", "account", "accountnumber", "photo", "picture", "image",
})


def identifier_column_word(column: str) -> str | None:
    """The identifier word a column name denotes ("First Name" -> "firstname"), or None.

    The word comes from IDENTIFIER_COLUMN_WORDS, so it can be shown in a rejection reason where the column
    name itself (which may hold anything) cannot.
    """
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", column)  # camelCase -> camel_Case
    tokens = [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]
    joined = "".join(tokens)
    if joined in IDENTIFIER_COLUMN_WORDS:
        return joined
    for token in tokens:
        if token in IDENTIFIER_COLUMN_WORDS:
            return token
    # Adjacent token pairs catch "first_name", "e_mail", "zip_code" written with separators.
    for a, b in zip(tokens, tokens[1:], strict=False):
        if a + b in IDENTIFIER_COLUMN_WORDS:
            return a + b
    return None


# Identifier patterns searched in every text value (RE2 syntax, used by DuckDB regexp_matches).
IDENTIFIER_TEXT_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "url": r"(?i)(https?://|www\.)\S+",
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "phone": r"(\+?\d{1,2}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b",
    "date": (
        r"(?i)\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|"
        r"\b\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b|"
        r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\b"
    ),
    "ip": r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b",
    "zip": r"\b\d{5}(-\d{4})?\b",
    # "MRN 123", "mrn:AB12" or a bare run of 7-10 digits (in free text; key columns are not scanned so).
    "mrn": r"(?i)\bmrn\s*[:#]?\s*[A-Za-z0-9-]+|\b\d{7,10}\b",
}

# The key columns (site_id, patient_id) are checked against their own patterns, not the free-text scan
# above: a run of digits in a pseudonymous id is a study number, not a ZIP code or an MRN. Only an id whose
# WHOLE value has the shape of a US social security number, a phone number or a calendar date is an
# identifier (contract revision 2). Shapes are those the key pattern [A-Za-z0-9._-] can spell; a bare run of
# digits is always a study number (0012345678, 078051120 and 20240305 are accepted). See docs/ingest.md.
KEY_COLUMNS = ("site_id", "patient_id")
# Where rows are counted per site (ingest.drop_file_sites) but their site_id is invalid, itself an identifier,
# or unreadable (a malformed record): such a value is never echoed.
INVALID_SITE = "(invalid site id)"
_SEP = r"[-._]"
_YEAR = r"(1[89][0-9]{2}|2[0-9]{3})"
_MONTH = r"(0?[1-9]|1[0-2])"
_DAY = r"(0?[1-9]|[12][0-9]|3[01])"
_MONTH_NAME = (
    r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?"
    r"|nov(ember)?|dec(ember)?)"
)
KEY_IDENTIFIER_PATTERNS: dict[str, str] = {
    # 078-05-1120, 078.05.1120
    "ssn": r"^[0-9]{3}[-.][0-9]{2}[-.][0-9]{4}$",
    # 555-867-5309, 555.867.5309, 1-555-867-5309 (separators required: 5558675309 is a study number)
    "phone": r"^(1[-.])?[0-9]{3}[-.][0-9]{3}[-.][0-9]{4}$",
    # 2024-03-05, 2024.3.5, 2024_03_05; 03-05-2024, 25.12.1950 (day and month either way round, 4-digit
    # year); 5-Mar-2024, 5march2024, Mar-5-2024, 2024-mar-05
    "date": (
        rf"(?i)^({_YEAR}{_SEP}{_MONTH}{_SEP}{_DAY}|{_DAY}{_SEP}{_DAY}{_SEP}{_YEAR}"
        rf"|{_DAY}{_SEP}?{_MONTH_NAME}{_SEP}?{_YEAR}|{_MONTH_NAME}{_SEP}?{_DAY}{_SEP}?{_YEAR}"
        rf"|{_YEAR}{_SEP}?{_MONTH_NAME}{_SEP}?{_DAY})$"
    ),
}

# Row-level quarantine reason codes (a row gets the first that applies, in this order).
REASON_CODES: dict[str, str] = {
    "malformed_row": "the CSV record could not be parsed (wrong number of fields, bad quoting)",
    "invalid_id": "site_id or patient_id missing or not matching the contract pattern",
    "identifier_in_text": "a text value looks like a direct identifier (see identifier_kind)",
    "missing_value": "a required value is empty",
    "invalid_type": "a value is not of the column's type (integer or number)",
    "unknown_code": "a code (procedure, sex, anesthesia, instrument, event) is not in the contract",
    "invalid_unit": "unit missing, unknown, or given for an instrument without unit",
    "out_of_range": "a value is outside its contract range (including day ranges and future years)",
    "text_too_long": "detail is longer than 200 characters",
    "conflicting_duplicate": "two rows of one file share a key but differ in values",
    # erased_patient precedes orphan: an erased patient has no patient row left, so every later row of
    # theirs would otherwise be reported as a mere orphan.
    "erased_patient": "names a patient that an erasure removed",
    "orphan": "names a patient that no accepted patient row of the site provides",
}

# Drop-level rejection reasons (the whole drop is refused).
DROP_REJECTION_CODES: dict[str, str] = {
    "invalid_drop_id": "the folder name does not match the drop id pattern",
    "missing_file": "a required table is absent",
    "ambiguous_format": "a table is given both as CSV and as Parquet",
    "unreadable_file": "a file cannot be decoded (not UTF-8, binary, bad CSV header, broken Parquet)",
    "missing_column": "a required column is absent",
    "identifier_column": "a column name denotes a direct identifier",
    "bad_manifest": "manifest.json is malformed or of another contract version",
    "checksum_mismatch": "a file's SHA-256 differs from manifest.json, or a listed file is missing",
}


def public_drop_id(drop_id: str) -> str:
    """The drop id as it may be shown in reports, logs and metadata.

    A folder rejected for its name may be named anything, an identifier included, so it is never echoed.
    """
    return drop_id if re.fullmatch(DROP_ID_PATTERN, drop_id) else "(rejected folder name)"
