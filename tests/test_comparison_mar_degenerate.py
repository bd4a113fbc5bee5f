"""The MAR twin (SAP 3.1) on data that cannot give it (SAP 9): its tables keep their columns, its members are
gaps with the comparison's own reason, and the refresh does not fail."""

from pipeline.comparison import reasons
from pipeline.comparison.mar_differences import COLUMNS, MEMBER, TIPPING_COLUMNS
from tests.test_comparison_assets import warehouse as comparison_warehouse  # noqa: F401  (fixture)
from tests.test_comparison_degenerate import checks, gaps, refresh
from tests.test_survival_assets import query
from tests.test_survival_assets import warehouse as staged_warehouse  # noqa: F401  (fixture)

TIPPING = "tipping_point[adjusted.pro_change_difference_mar][M12]"


def all_gaps(db) -> dict[str, str]:
    return dict(query(db, "SELECT what, reason FROM meta.not_estimable"))


def _columns(db, table: str) -> list[str]:
    return [r[0] for r in query(db, f"DESCRIBE comparison.{table}")]


def test_without_patients_the_twin_is_empty_and_says_why(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, "UPDATE staging.patients SET in_analysis = false")
    assert {w: all_gaps(db)[w] for w in (MEMBER, TIPPING)} == dict.fromkeys((MEMBER, TIPPING), reasons.NO_PATIENTS)
    assert query(db, "SELECT count(*) FROM comparison.pro_change_difference_mar")[0][0] == 0
    assert _columns(db, "pro_change_difference_mar") == list(COLUMNS)
    assert _columns(db, "tipping_point_difference") == list(TIPPING_COLUMNS)


def test_without_attendance_weights_the_twin_says_so(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, "DROP VIEW outcomes.attendance_weights")
    assert gaps(db)[MEMBER] == "no attendance weights in this refresh"
    assert query(db, "SELECT count(*) FROM comparison.adjusted_estimates WHERE adjustment = 'adjusted'")[0][0] > 0


def test_the_check_holds_without_patients_and_says_why(comparison_warehouse, tmp_path):  # noqa: F811
    _, result = refresh(comparison_warehouse, tmp_path, "UPDATE staging.patients SET in_analysis = false")
    check = checks(result)["differences_valid"]
    assert check.passed and reasons.NO_PATIENTS in check.description
