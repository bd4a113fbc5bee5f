"""The study configuration: the committed file holds the SAP's defaults, run-config overrides are merged over
it and validated, and the configuration actually used is identified and listed."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from assets.resources import RefreshPaths
from pipeline.study import DEFAULT_STUDY_FILE, Study, load_study

STUDY = load_study()


# The dataclass defaults are the SAP's; the committed study.toml must say the same for every parameter that has
# one (all sections: outcomes, comparison, durability, events, missing follow-up), not for the run's bookkeeping.
SAP_DEFAULTS = Study(STUDY.treatment, STUDY.comparator, 1826, STUDY.visits, 11, STUDY.sha256)
SAP_FIELDS = [f.name for f in dataclasses.fields(Study)
              if f.default is not dataclasses.MISSING and f.name not in ("version", "file_sha256", "overrides")]


@pytest.mark.parametrize("field", SAP_FIELDS)
def test_committed_file_holds_the_sap_default(field):
    assert getattr(STUDY, field) == getattr(SAP_DEFAULTS, field)


def test_committed_arms_and_primary_visit():
    assert (STUDY.treatment, STUDY.comparator, STUDY.primary_visit) == ("MILD", "LAMINECTOMY", "M12")


def test_sap_mcid_rules():
    rules = {m.instrument: (m.rule, m.thresholds()) for m in STUDY.mcid}
    assert rules == {
        "ODI": ("absolute", {"absolute": 10.0, "relative": 0.30}),
        "NRS_BACK": ("absolute", {"absolute": 2.0}),
        "NRS_LEG": ("absolute", {"absolute": 2.0}),
        "ZCQ_SYMPTOM": ("absolute", {"absolute": 0.5}),
        "ZCQ_FUNCTION": ("absolute", {"absolute": 0.5}),
        "WALK_DISTANCE": ("relative", {"relative": 0.30}),
        "STAND_TIME": ("relative", {"relative": 0.30}),
    }


def test_without_overrides_the_hash_is_the_file_hash():
    assert STUDY.sha256 == hashlib.sha256(DEFAULT_STUDY_FILE.read_bytes()).hexdigest() == STUDY.file_sha256
    assert STUDY.overrides == ""


def test_an_override_switches_odi_to_the_relative_rule_and_changes_the_hash():
    study = load_study(overrides='responders.ODI.rule = "relative"')
    assert study.mcid[0].rule == "relative"
    assert study.sha256 != STUDY.sha256 and study.file_sha256 == STUDY.file_sha256
    assert ("responders.ODI.rule", "relative") in study.parameters()


def test_override_tables_merge_key_by_key():
    study = load_study(overrides="[responders.NRS_BACK]\nabsolute = 3\n\n[outcomes]\nprimary_visit = \"M24\"")
    nrs = next(m for m in study.mcid if m.instrument == "NRS_BACK")
    assert (nrs.rule, nrs.absolute) == ("absolute", 3.0)
    assert (study.primary_visit, study.baseline_visit) == ("M24", "BASELINE")


def test_override_lists_replace_whole_including_visits():
    visits = "\n".join(
        f'[[visits]]\nname = "{n}"\nstart = {s}\nend = {e}\ntarget = {t}'
        for n, s, e, t in (("BASELINE", -30, 0, 0), ("M12", 300, 430, 365))
    )
    study = load_study(overrides=visits)
    assert [v.name for v in study.visits] == ["BASELINE", "M12"]


OVERLAPPING_WINDOWS = ("[[visits]]\nname='A'\nstart=0\nend=10\ntarget=5\n[[visits]]\nname='B'\nstart=10\n"
                       "end=20\ntarget=15\n[outcomes]\nbaseline_visit='A'\nprimary_visit='B'")


@pytest.mark.parametrize(
    "override, message",
    [
        pytest.param('responders.ODI.rules = "relative"', "unknown key", id="misspelt key"),
        pytest.param('responders.ODI.rule = "percent"', "rule must be one of", id="unknown rule"),
        pytest.param('responders.NRS_LEG.rule = "relative"', "has no threshold", id="rule without threshold"),
        pytest.param('outcomes.primary_visit = "M18"', "primary_visit", id="primary visit not a visit"),
        pytest.param(OVERLAPPING_WINDOWS, "overlap", id="overlapping windows"),
        pytest.param("responders.ODI.rule = relative", "not valid TOML", id="not TOML"),
    ],
)
def test_an_invalid_override_is_refused(override, message):
    with pytest.raises(ValueError, match=message):
        load_study(overrides=override)


def test_parameters_list_every_value_used():
    params = dict(STUDY.parameters())
    assert params["arms.treatment"] == "MILD"
    assert params["visits.M12"] == "271..547 target 365"
    assert params["responders.ODI.absolute"] == "10.0"
    assert params["satisfaction.definitions.NASS"] == "SATISFACTION <= 2.0"
    assert params["completeness.minimum"] == "0.8"
    assert params["safety.complication_window_days"] == "90"
    assert params["study_sha256"] == STUDY.sha256


def test_a_study_built_by_hand_still_works_with_the_old_fields():
    study = dataclasses.replace(STUDY, treatment="LAMINECTOMY", comparator="FUSION")
    assert study.arms == ("LAMINECTOMY", "FUSION")
    assert study.visit_rows()[0] == ("BASELINE", 0, -90, 0, 0)


def test_refresh_paths_apply_the_run_overrides():
    paths = RefreshPaths(landing="l", reports="r", study_file=str(DEFAULT_STUDY_FILE),
                         study_overrides="safety.complication_window_days = 30")
    assert paths.study().complication_window_days == 30
    assert RefreshPaths(landing="l", reports="r", study_file=str(DEFAULT_STUDY_FILE)).study() == STUDY
