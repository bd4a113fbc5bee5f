"""The study configuration (pipeline/study.toml): arms, visit windows, horizon, disclosure threshold, and the
outcome parameters of SAP sections 2, 3 and 5 (baseline and primary visit, MCID rules, satisfaction
definitions, follow-up completeness target, complication window), of section 4 (reporting days, PH-test
alpha), of section 6 (weights, CI, balance gate, equipoise) and the event codes the analyses read.

Run config may override any value: `load_study(path, overrides=toml_text)` merges a TOML fragment over the
file (tables key by key; any other value, lists and the list of visits included, replaced whole). Every key
is validated after the merge, so a misspelt key in the file or in an override is refused instead of leaving
a default silently in force. `Study.sha256` identifies the configuration actually used: the file's SHA-256
when nothing is overridden, otherwise the SHA-256 of the file followed by the override text.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import contract

DEFAULT_STUDY_FILE = Path(__file__).with_name("study.toml")

RESPONDER_RULES = ("absolute", "relative")
COMPARISON_WEIGHTS = ("overlap", "ate", "att")  # SAP section 6
COMPARISON_CIS = ("robust", "bootstrap")
ANY_INSTRUMENT = "ANY"  # completeness counts an assessment of any instrument


@dataclass(frozen=True)
class Visit:
    name: str
    start: int
    end: int
    target: int


@dataclass(frozen=True)
class Mcid:
    """Minimal clinically important difference of one instrument (SAP section 3).

    absolute: improvement >= this many points; relative: improvement >= this share of the baseline value
    (any improvement when the baseline is 0). `rule` is the one that defines "responder".
    """

    instrument: str
    rule: str
    absolute: float | None = None
    relative: float | None = None

    def thresholds(self) -> dict[str, float]:
        """Every rule that has a threshold, in RESPONDER_RULES order."""
        given = {"absolute": self.absolute, "relative": self.relative}
        return {rule: float(value) for rule, value in given.items() if value is not None}


@dataclass(frozen=True)
class SatisfactionDefinition:
    """Satisfied = value of `instrument` <= satisfied_max (SAP section 3)."""

    name: str
    instrument: str
    satisfied_max: float


# The SAP's defaults, as in the committed study.toml (a test keeps the two equal). They let code that builds
# a Study by hand, from before the outcome parameters existed, keep working.
SAP_MCID = (
    Mcid("ODI", "absolute", absolute=10.0, relative=0.30),
    Mcid("NRS_BACK", "absolute", absolute=2.0),
    Mcid("NRS_LEG", "absolute", absolute=2.0),
    Mcid("ZCQ_SYMPTOM", "absolute", absolute=0.5),
    Mcid("ZCQ_FUNCTION", "absolute", absolute=0.5),
    Mcid("WALK_DISTANCE", "relative", relative=0.30),
    Mcid("STAND_TIME", "relative", relative=0.30),
)
SAP_SATISFACTION = (
    SatisfactionDefinition("NASS", "SATISFACTION", 2.0),
    SatisfactionDefinition("ZCQ", "ZCQ_SATISFACTION", 2.5),
)


@dataclass(frozen=True)
class EventCodes:
    """The data-contract event codes each analysis reads (SAP 1, 4, 5)."""

    reintervention: tuple[str, ...] = ("REINTERVENTION_SURGERY", "REPEAT_MILD")
    complication: str = "COMPLICATION"
    return_to_activity: str = "RETURN_TO_ACTIVITY"
    death: str = "DEATH"
    withdrawal: str = "WITHDRAWN"
    last_contact: str = "LAST_CONTACT"


SAP_EVENTS = EventCodes()


@dataclass(frozen=True)
class Study:
    treatment: str
    comparator: str
    horizon_days: int
    visits: tuple[Visit, ...]
    suppression_threshold: int
    sha256: str
    # Outcome parameters (SAP sections 2, 3, 5). Defaults are the SAP's; load_study always sets them.
    baseline_visit: str = "BASELINE"
    primary_visit: str = "M12"
    mcid: tuple[Mcid, ...] = SAP_MCID
    skewed_instruments: tuple[str, ...] = ("WALK_DISTANCE", "STAND_TIME")
    satisfaction: tuple[SatisfactionDefinition, ...] = SAP_SATISFACTION
    primary_satisfaction: str = "NASS"
    completeness_instrument: str = ANY_INSTRUMENT
    completeness_minimum: float = 0.80
    complication_window_days: int = 90
    # The adjusted comparison (SAP section 6); optional in the file, these are the SAP's defaults.
    comparison_weights: str = "overlap"
    comparison_ci: str = "robust"
    bootstrap_replicates: int = 500
    bootstrap_seed: int = 20240617
    truncation_percentiles: tuple[float, float] = (1.0, 99.0)
    smd_limit: float = 0.1
    equipoise_band: tuple[float, float] = (0.3, 0.7)
    equipoise_minimum: float = 0.20
    return_to_activity_km_days: tuple[int, ...] = (14, 28, 90, 365)
    # SAP section 4; optional in the file, these are the SAP's defaults.
    km_days: tuple[int, ...] = (365, 730, 1095, 1461, 1826)
    durable_response_days: tuple[int, ...] = (365, 730, 1826)
    return_to_activity_days: tuple[int, ...] = (14, 28)
    ph_alpha: float = 0.05
    durable_response_bootstrap_resamples: int = 200
    durable_response_bootstrap_seed: int = 20261207
    events: EventCodes = SAP_EVENTS
    # SAP section 3.1 (missing follow-up); optional in the file, these are the SAP's defaults. data_cut_year
    # None = derived from the data (the latest drop id's year, else the latest index_year + 1).
    data_cut_year: int | None = None
    attendance_truncation_percentile: float = 99.0
    attendance_min_patients: int = 11
    version: str = ""
    file_sha256: str = ""
    overrides: str = ""

    @property
    def arms(self) -> tuple[str, str]:
        return (self.treatment, self.comparator)

    @property
    def change_instruments(self) -> tuple[str, ...]:
        """Instruments analysed as change from baseline, in configuration order."""
        return tuple(m.instrument for m in self.mcid)

    def visit_rows(self) -> list[tuple[str, int, int, int, int]]:
        """(visit, ordinal, start, end, target) rows, for loading into the warehouse."""
        return [(v.name, i, v.start, v.end, v.target) for i, v in enumerate(self.visits)]

    def visit(self, name: str) -> Visit:
        for v in self.visits:
            if v.name == name:
                return v
        raise KeyError(f"no visit named {name!r} in the study")

    def parameters(self) -> list[tuple[str, str]]:
        """Every parameter as (name, value) text, for recording with the results (derived from the fields,
        so it can never disagree with the values used)."""
        rows = [
            ("version", self.version),
            ("study_sha256", self.sha256),
            ("study_file_sha256", self.file_sha256),
            ("overrides", self.overrides),
            ("arms.treatment", self.treatment),
            ("arms.comparator", self.comparator),
            ("horizon.days", str(self.horizon_days)),
            ("disclosure.suppression_threshold", str(self.suppression_threshold)),
            *[(f"visits.{v.name}", f"{v.start}..{v.end} target {v.target}") for v in self.visits],
            ("outcomes.baseline_visit", self.baseline_visit),
            ("outcomes.primary_visit", self.primary_visit),
            ("changes.instruments", ",".join(self.change_instruments)),
            ("changes.skewed", ",".join(self.skewed_instruments)),
        ]
        for m in self.mcid:
            rows.append((f"responders.{m.instrument}.rule", m.rule))
            rows += [(f"responders.{m.instrument}.{rule}", _number(t)) for rule, t in m.thresholds().items()]
        rows.append(("satisfaction.primary", self.primary_satisfaction))
        for d in self.satisfaction:
            rows.append((f"satisfaction.definitions.{d.name}", f"{d.instrument} <= {_number(d.satisfied_max)}"))
        rows += [
            ("completeness.instrument", self.completeness_instrument),
            ("completeness.minimum", _number(self.completeness_minimum)),
            ("safety.complication_window_days", str(self.complication_window_days)),
            ("comparison.weights", self.comparison_weights),
            ("comparison.ci", self.comparison_ci),
            ("comparison.bootstrap_replicates", str(self.bootstrap_replicates)),
            ("comparison.bootstrap_seed", str(self.bootstrap_seed)),
            ("comparison.truncation_percentiles", ",".join(_number(p) for p in self.truncation_percentiles)),
            ("comparison.smd_limit", _number(self.smd_limit)),
            ("comparison.equipoise_band", ",".join(_number(p) for p in self.equipoise_band)),
            ("comparison.equipoise_minimum", _number(self.equipoise_minimum)),
            ("comparison.return_to_activity_km_days", _days(self.return_to_activity_km_days)),
            ("survival.km_days", _days(self.km_days)),
            ("survival.durable_response_days", _days(self.durable_response_days)),
            ("survival.return_to_activity_days", _days(self.return_to_activity_days)),
            ("survival.ph_alpha", _number(self.ph_alpha)),
            ("survival.durable_response_bootstrap_resamples", str(self.durable_response_bootstrap_resamples)),
            ("survival.durable_response_bootstrap_seed", str(self.durable_response_bootstrap_seed)),
            ("events.reintervention", ",".join(self.events.reintervention)),
            ("events.complication", self.events.complication),
            ("events.return_to_activity", self.events.return_to_activity),
            ("events.death", self.events.death),
            ("events.withdrawal", self.events.withdrawal),
            ("events.last_contact", self.events.last_contact),
            ("missing.data_cut_year", "auto" if self.data_cut_year is None else str(self.data_cut_year)),
            ("missing.weight_truncation_percentile", _number(self.attendance_truncation_percentile)),
            ("missing.min_patients", str(self.attendance_min_patients)),
        ]
        return rows


def load_study(path: Path = DEFAULT_STUDY_FILE, overrides: str = "") -> Study:
    """Read the study file, merge the run-config `overrides` (a TOML fragment) over it and validate."""
    raw = path.read_bytes()
    cfg = tomllib.loads(raw.decode("utf-8"))
    overrides = overrides.strip()
    if overrides:
        try:
            cfg = _merge(cfg, tomllib.loads(overrides))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"study overrides are not valid TOML: {exc}") from None
    file_sha = hashlib.sha256(raw).hexdigest()
    sha = hashlib.sha256(raw + b"\n# run-config overrides\n" + overrides.encode("utf-8")).hexdigest()
    study = _parse(cfg, file_sha=file_sha, sha=sha if overrides else file_sha, overrides=overrides)
    _check_windows(study.visits)
    _check_outcomes(study)
    return study


def _merge(base: dict, override: dict) -> dict:
    """`override` merged over `base`: tables key by key, every other value replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def _table(cfg: dict, key: str, allowed: set[str], where: str = "") -> dict:
    """cfg[key] as a table whose keys are all in `allowed` (a misspelt key is an error, not a no-op)."""
    value = cfg.get(key)
    name = f"{where}{key}"
    if not isinstance(value, dict):
        raise ValueError(f"study configuration: [{name}] is missing or not a table")
    unknown = set(value) - allowed
    if unknown:
        raise ValueError(f"study configuration: unknown key(s) {sorted(unknown)} in [{name}]")
    return value


def _parse(cfg: dict[str, Any], *, file_sha: str, sha: str, overrides: str) -> Study:
    top = {"version", "arms", "horizon", "visits", "disclosure", "outcomes", "changes", "responders",
           "satisfaction", "completeness", "safety", "comparison", "survival", "events", "missing"}
    unknown = set(cfg) - top
    if unknown:
        raise ValueError(f"study configuration: unknown top-level key(s) {sorted(unknown)}")
    arms = _table(cfg, "arms", {"treatment", "comparator"})
    visits = tuple(Visit(v["name"], int(v["start"]), int(v["end"]), int(v["target"])) for v in cfg["visits"])
    outcomes = _table(cfg, "outcomes", {"baseline_visit", "primary_visit"})
    changes = _table(cfg, "changes", {"instruments", "skewed"})
    responders = cfg.get("responders", {})
    mcid = []
    for code in changes["instruments"]:
        rule = _table(responders, code, {"rule", *RESPONDER_RULES}, "responders.")
        mcid.append(Mcid(code, rule.get("rule", ""), _optional_float(rule.get("absolute")),
                         _optional_float(rule.get("relative"))))
    satisfaction = _table(cfg, "satisfaction", {"primary", "definitions"})
    definitions = satisfaction.get("definitions", {})
    sat_defs = tuple(
        SatisfactionDefinition(name, d["instrument"], float(d["satisfied_max"]))
        for name, d in ((n, _table(definitions, n, {"instrument", "satisfied_max"}, "satisfaction.definitions."))
                        for n in definitions)
    )
    completeness = _table(cfg, "completeness", {"instrument", "minimum"})
    safety = _table(cfg, "safety", {"complication_window_days"})
    # [comparison] is optional: study files written before SAP section 6 was implemented keep working.
    comparison = _table({"comparison": cfg.get("comparison", {})}, "comparison",
                        {"weights", "ci", "bootstrap_replicates", "bootstrap_seed", "truncation_percentiles",
                         "smd_limit", "equipoise_band", "equipoise_minimum", "return_to_activity_km_days"})
    # [survival] and [events] are optional too (study files of version 2 before issue 13).
    survival = _table({"survival": cfg.get("survival", {})}, "survival",
                      {"km_days", "durable_response_days", "return_to_activity_days", "ph_alpha",
                       "durable_response_bootstrap_resamples", "durable_response_bootstrap_seed"})
    events = _table({"events": cfg.get("events", {})}, "events", set(EventCodes.__dataclass_fields__))
    # [missing] is optional too (study files before SAP version 2's section 3.1).
    missing = _table({"missing": cfg.get("missing", {})}, "missing",
                     {"data_cut_year", "weight_truncation_percentile", "min_patients"})
    defaults = Study.__dataclass_fields__

    def default(table: dict, key: str) -> Any:
        """table[key], or the Study field of the same name's default (the SAP's) when the file omits it."""
        return table.get(key, defaults[key].default)

    return Study(
        treatment=arms["treatment"],
        comparator=arms["comparator"],
        horizon_days=int(_table(cfg, "horizon", {"days"})["days"]),
        visits=visits,
        suppression_threshold=int(_table(cfg, "disclosure", {"suppression_threshold"})["suppression_threshold"]),
        sha256=sha,
        baseline_visit=outcomes["baseline_visit"],
        primary_visit=outcomes["primary_visit"],
        mcid=tuple(mcid),
        skewed_instruments=tuple(changes["skewed"]),
        satisfaction=sat_defs,
        primary_satisfaction=satisfaction["primary"],
        completeness_instrument=completeness["instrument"],
        completeness_minimum=float(completeness["minimum"]),
        complication_window_days=int(safety["complication_window_days"]),
        comparison_weights=str(comparison.get("weights", defaults["comparison_weights"].default)),
        comparison_ci=str(comparison.get("ci", defaults["comparison_ci"].default)),
        bootstrap_replicates=int(comparison.get("bootstrap_replicates", defaults["bootstrap_replicates"].default)),
        bootstrap_seed=int(comparison.get("bootstrap_seed", defaults["bootstrap_seed"].default)),
        truncation_percentiles=tuple(float(p) for p in comparison.get(
            "truncation_percentiles", defaults["truncation_percentiles"].default)),
        smd_limit=float(default(comparison, "smd_limit")),
        equipoise_band=tuple(float(b) for b in default(comparison, "equipoise_band")),
        equipoise_minimum=float(default(comparison, "equipoise_minimum")),
        return_to_activity_km_days=_day_list(default(comparison, "return_to_activity_km_days")),
        km_days=_day_list(default(survival, "km_days")),
        durable_response_days=_day_list(default(survival, "durable_response_days")),
        return_to_activity_days=_day_list(default(survival, "return_to_activity_days")),
        ph_alpha=float(default(survival, "ph_alpha")),
        durable_response_bootstrap_resamples=int(default(survival, "durable_response_bootstrap_resamples")),
        durable_response_bootstrap_seed=int(default(survival, "durable_response_bootstrap_seed")),
        events=EventCodes(**{k: (tuple(str(c) for c in v) if isinstance(v, list) else str(v))
                             for k, v in events.items()}),
        data_cut_year=_cut_year(missing.get("data_cut_year", "auto")),
        attendance_truncation_percentile=float(missing.get(
            "weight_truncation_percentile", defaults["attendance_truncation_percentile"].default)),
        attendance_min_patients=_whole(missing.get("min_patients", defaults["attendance_min_patients"].default),
                                       "missing.min_patients"),
        version=str(cfg.get("version", "")),
        file_sha256=file_sha,
        overrides=overrides,
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _cut_year(value: Any) -> int | None:
    """missing.data_cut_year: "auto" (None: derived from the data) or a whole year."""
    if value == "auto":
        return None
    return _whole(value, "missing.data_cut_year")


def _whole(value: Any, key: str) -> int:
    """An integer of the file (TOML integers only: 2026.5 or "2026" is refused, not rounded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number, not {value!r}")
    return value


def _day_list(values: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in values)


def _days(days: tuple[int, ...]) -> str:
    return ",".join(str(d) for d in days)


def _number(value: float) -> str:
    return repr(float(value))  # shortest text that reads back as the same float: nothing is rounded away


def _check_windows(visits: tuple[Visit, ...]) -> None:
    for v in visits:
        if not v.start <= v.target <= v.end:
            raise ValueError(f"visit {v.name}: target {v.target} outside its window {v.start}..{v.end}")
    for a, b in zip(visits, visits[1:], strict=False):
        if b.start <= a.end:
            raise ValueError(f"visit windows {a.name} and {b.name} overlap")


def _check_outcomes(study: Study) -> None:
    names = [v.name for v in study.visits]
    for key, visit in (("baseline_visit", study.baseline_visit), ("primary_visit", study.primary_visit)):
        if visit not in names:
            raise ValueError(f"outcomes.{key} {visit!r} is not a visit of the study ({', '.join(names)})")
    if names.index(study.primary_visit) <= names.index(study.baseline_visit):
        raise ValueError("outcomes.primary_visit must come after the baseline visit")
    if study.treatment == study.comparator:
        raise ValueError(f"arms: treatment and comparator are the same procedure code {study.treatment!r}")
    if len(set(study.change_instruments)) != len(study.mcid):
        raise ValueError("changes.instruments lists an instrument twice")
    for m in study.mcid:
        instrument = contract.INSTRUMENTS.get(m.instrument)
        if instrument is None or instrument.post_only:
            raise ValueError(f"changes.instruments: {m.instrument!r} is not an instrument with a baseline")
        if m.rule not in RESPONDER_RULES:
            raise ValueError(f"responders.{m.instrument}.rule must be one of {RESPONDER_RULES}, not {m.rule!r}")
        if m.rule not in m.thresholds():
            raise ValueError(f"responders.{m.instrument}: rule {m.rule!r} has no threshold")
        if any(t <= 0 for t in m.thresholds().values()):
            raise ValueError(f"responders.{m.instrument}: thresholds must be positive")
    stray = set(study.skewed_instruments) - set(study.change_instruments)
    if stray:
        raise ValueError(f"changes.skewed: {sorted(stray)} not in changes.instruments")
    if study.primary_satisfaction not in {d.name for d in study.satisfaction}:
        raise ValueError(f"satisfaction.primary {study.primary_satisfaction!r} is not a defined definition")
    for d in study.satisfaction:
        if d.instrument not in contract.INSTRUMENTS:
            raise ValueError(f"satisfaction.definitions.{d.name}: unknown instrument {d.instrument!r}")
    if study.completeness_instrument != ANY_INSTRUMENT and study.completeness_instrument not in contract.INSTRUMENTS:
        raise ValueError(f"completeness.instrument must be {ANY_INSTRUMENT!r} or an instrument code")
    if not 0 < study.completeness_minimum <= 1:
        raise ValueError("completeness.minimum must lie in (0, 1]")
    if study.complication_window_days < 0:
        raise ValueError("safety.complication_window_days must be >= 0")
    if study.comparison_weights not in COMPARISON_WEIGHTS:
        raise ValueError(f"comparison.weights must be one of {COMPARISON_WEIGHTS}, not {study.comparison_weights!r}")
    if study.comparison_ci not in COMPARISON_CIS:
        raise ValueError(f"comparison.ci must be one of {COMPARISON_CIS}, not {study.comparison_ci!r}")
    if study.bootstrap_replicates < 20:
        raise ValueError("comparison.bootstrap_replicates must be at least 20 (a percentile CI needs the tails)")
    bounds = study.truncation_percentiles
    if len(bounds) != 2 or not 0 <= bounds[0] < bounds[1] <= 100:
        raise ValueError("comparison.truncation_percentiles must be two percentiles 0 <= low < high <= 100")
    if not study.smd_limit > 0:
        raise ValueError("comparison.smd_limit must be positive")
    band = study.equipoise_band
    if len(band) != 2 or not 0 <= band[0] < band[1] <= 1:
        raise ValueError("comparison.equipoise_band must be two preference scores 0 <= low < high <= 1")
    if not 0 <= study.equipoise_minimum <= 1:
        raise ValueError("comparison.equipoise_minimum must lie in [0, 1]")
    if not 0 < study.ph_alpha < 1:
        raise ValueError("survival.ph_alpha must lie in (0, 1)")
    if study.durable_response_bootstrap_resamples != 0 and study.durable_response_bootstrap_resamples < 20:
        raise ValueError("survival.durable_response_bootstrap_resamples must be 0 (no CIs) or at least 20")
    if study.durable_response_bootstrap_seed < 0:
        raise ValueError("survival.durable_response_bootstrap_seed must be a non-negative integer")
    for key in ("km_days", "durable_response_days", "return_to_activity_days", "return_to_activity_km_days"):
        days = getattr(study, key)
        # Increasing: the last day is the one a headline number reads (e.g. freedom at 1826 days).
        if not days or any(d < 0 for d in days) or list(days) != sorted(set(days)):
            raise ValueError(f"{key}: days must be non-negative and strictly increasing")
    codes = set(contract.EVENTS)
    events = study.events
    for key in EventCodes.__dataclass_fields__:
        value = getattr(events, key)
        for code in (value if isinstance(value, tuple) else (value,)):
            if code not in codes:
                raise ValueError(f"events.{key}: {code!r} is not an event code of the data contract")
    if not events.reintervention:
        raise ValueError("events.reintervention must list at least one event code")
    if study.data_cut_year is not None and not 1900 <= study.data_cut_year <= 2200:
        raise ValueError("missing.data_cut_year must be \"auto\" or a calendar year")
    if not 50 < study.attendance_truncation_percentile <= 100:
        raise ValueError("missing.weight_truncation_percentile must lie in (50, 100] (100: no truncation)")
    if study.attendance_min_patients < 1:
        raise ValueError("missing.min_patients must be at least 1")
