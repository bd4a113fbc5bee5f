"""The checks of the missing-follow-up tables (SAP 3.1): SQL in sql/checks/attendance_weights_valid.sql and
sql/checks/mar_estimates_valid.sql. Both block: a weight that is not positive and finite, or an estimate
outside its CI, would be a wrong number; an empty table (no patient due anywhere) holds."""

from __future__ import annotations

from pipeline.checks import CheckSpec

MAR_CHECKS = (
    CheckSpec("attendance_weights", "weights_valid",
              "Every eligible, assessed row has a positive, finite attendance weight (1 under complete case), "
              "no other row has one, method is ipaw or complete_case, and no patient, instrument and visit "
              "appears twice.", sql="checks/attendance_weights_valid"),
    CheckSpec("pro_change_mar", "estimates_valid",
              "MAR estimates: 0 <= assessed <= eligible; an estimate exactly where somebody was assessed, inside "
              "its 95% CI; rates and their CIs within [0, 1]; tipping points: share not assessed in [0, 1], "
              "delta >= 0.", sql="checks/mar_estimates_valid"),
)
