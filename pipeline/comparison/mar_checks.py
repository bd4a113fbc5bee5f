"""The check of the MAR twin of the adjusted differences (SAP 3.1; pipeline/comparison/mar_differences.py), SQL in
sql/checks/comparison_mar_differences_valid.sql. Blocking: an estimate outside its CI or a negative tipping point
would be a wrong number; empty tables (nothing estimable, the gap says why) hold."""

from __future__ import annotations

from pipeline.checks import CheckSpec

MAR_DIFFERENCE_CHECKS = (
    CheckSpec("adjusted_estimates_mar", "differences_valid",
              "MAR adjusted differences: each estimate inside its 95% CI, method ipaw or complete_case; the "
              "tipping point of the primary-visit ODI difference: share not assessed in [0, 1], assessed <= "
              "eligible, delta >= 0 and given exactly when no reason says why not.",
              sql="checks/comparison_mar_differences_valid"),
)
