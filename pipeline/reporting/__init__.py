"""Published reports (issue 6): results.json, data_quality.json, the comparative effectiveness report, the
data-quality report and the index. No Dagster here: assets/reporting.py wraps `build_reports`.

Modules: `common` (warehouse reads, Jinja environment), `suppression` (SAP 8 on every published count),
`provenance`, `results` (results.json), `data_quality`, `claims` (scorecard from pipeline/claims.toml),
`figures` (plotly, offline), `methods`, `comparative` (the comparative report), `render` (all files of a
refresh).
"""
