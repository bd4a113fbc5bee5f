"""Plotly figures of the reports, rendered offline: plotly.js is embedded once per HTML file (in the page
head, `FigureSet.script`, so figure order does not matter), no CDN, no MathJax, no web fonts.

Every input is already disclosure-controlled, except the curves, which are cut where fewer than `threshold`
patients remain at risk, and the propensity-score overlap, whose bins with 1..threshold−1 patients are blanked."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

COLORS = ("#1f5fa8", "#c8553d")  # treatment, comparator
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
CONFIG = {"displaylogo": False, "responsive": True,
          "toImageButtonOptions": {"format": "svg"}, "modeBarButtonsToRemove": ["sendDataToCloud"]}


class FigureSet:
    """Turns figures into HTML fragments (without plotly.js); `script` is the bundle to embed once per page."""

    def __init__(self) -> None:
        self.count = 0

    @property
    def script(self) -> str:
        """plotly.js, inline, when the page has a figure (else empty)."""
        return get_plotlyjs() if self.count else ""

    def html(self, fig: go.Figure, div_id: str, height: int = 420) -> str:
        fig.update_layout(font={"family": FONT, "size": 12}, height=height, margin={"l": 60, "r": 20, "t": 40, "b": 50},
                          template="plotly_white", legend={"orientation": "h", "y": -0.2})
        self.count += 1
        return fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=div_id,
                           config=CONFIG, default_width="100%")


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _err(rows: list[dict], key: str = "ci", value: str = "value") -> tuple[list, list]:
    plus, minus = [], []
    for r in rows:
        ci, v = r.get(key), r.get(value)
        plus.append(None if not ci or v is None else ci[1] - v)
        minus.append(None if not ci or v is None else v - ci[0])
    return plus, minus


def pro_trajectories(pro_change: list[dict], arms: tuple[str, str], instruments: tuple[str, ...],
                     visits: list[str]) -> go.Figure:
    cols = 2
    rows = (len(instruments) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{i}: mean change from baseline" for i in instruments],
                        vertical_spacing=0.08)
    for k, inst in enumerate(instruments):
        for a, arm in enumerate(arms):
            pts = [r for r in pro_change if r["arm"] == arm and r["instrument"] == inst]
            pts.sort(key=lambda r: visits.index(r["visit"]) if r["visit"] in visits else 99)
            data = [{"value": r["mean_change"], "ci": r["ci"]} for r in pts]
            plus, minus = _err(data)
            fig.add_trace(go.Scatter(
                x=[r["visit"] for r in pts], y=[r["mean_change"] for r in pts], mode="lines+markers", name=arm,
                legendgroup=arm, showlegend=k == 0, line={"color": _color(a)},
                error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
            ), row=k // cols + 1, col=k % cols + 1)
        fig.update_xaxes(categoryorder="array", categoryarray=visits, row=k // cols + 1, col=k % cols + 1)
    return fig


def rate_bars(rows: list[dict], arms: tuple[str, str], visits: list[str], value: str, ci: str, title: str) -> go.Figure:
    fig = go.Figure()
    for a, arm in enumerate(arms):
        pts = sorted((r for r in rows if r["arm"] == arm), key=lambda r: visits.index(r["visit"])
                     if r["visit"] in visits else 99)
        data = [{"value": r[value], "ci": r[ci]} for r in pts]
        plus, minus = _err(data)
        fig.add_trace(go.Bar(x=[r["visit"] for r in pts], y=[r[value] for r in pts], name=arm,
                             marker_color=_color(a), error_y={"type": "data", "array": plus, "arrayminus": minus}))
    fig.update_layout(barmode="group", title=title, yaxis={"range": [0, 1], "tickformat": ".0%"})
    fig.update_xaxes(categoryorder="array", categoryarray=visits)
    return fig


def km_curves(curve: pd.DataFrame, arms: tuple[str, str], threshold: int, title: str, ytitle: str,
              failure: bool = False, arm_col: str = "procedure", weighted: pd.DataFrame | None = None,
              value: str = "survival", full_range: bool = True) -> go.Figure:
    """Step curves with pointwise 95% bands, cut where fewer than `threshold` remain at risk.
    failure=True plots 1 − S (share with the event). `weighted`: optional weighted curves (dashed)."""
    fig = go.Figure()
    last: dict[str, float] = {}  # per arm, the last time with enough patients at risk (weighted curves stop there)
    for a, arm in enumerate(arms):
        c = curve[curve[arm_col] == arm].sort_values("time")
        if "at_risk" in c:
            c = c[c["at_risk"] >= threshold]
        if c.empty:
            continue
        last[arm] = float(c["time"].max())
        # Rounded like every published number (pipeline.reporting.common.number): reruns publish identical files.
        band = "ci_lower" in c and "ci_upper" in c  # the Turnbull curve has none
        y, lo, hi = (np.round(c[k].to_numpy(float), 10) if k in c else None for k in (value, "ci_lower", "ci_upper"))
        if failure:
            y, lo, hi = 1 - y, (1 - hi if band else None), (1 - lo if band else None)
        t = c["time"].to_numpy(float)
        color = _color(a)
        if band:
            fig.add_trace(go.Scatter(x=t, y=hi, mode="lines", line={"width": 0, "shape": "hv"}, showlegend=False,
                                     hoverinfo="skip", legendgroup=arm))
            fig.add_trace(go.Scatter(x=t, y=lo, mode="lines", line={"width": 0, "shape": "hv"}, fill="tonexty",
                                     fillcolor=_rgba(color, 0.15), showlegend=False, hoverinfo="skip",
                                     legendgroup=arm))
        fig.add_trace(go.Scatter(x=t, y=y, mode="lines", name=arm, line={"color": color, "shape": "hv"},
                                 legendgroup=arm))
    if weighted is not None and not weighted.empty:
        for a, arm in enumerate(arms):
            w = weighted[(weighted["arm"] == arm) & (weighted["time"] <= last.get(arm, -1.0))].sort_values("time")
            if w.empty:
                continue
            y = np.round(w["survival"].to_numpy(float), 10)
            fig.add_trace(go.Scatter(x=w["time"], y=1 - y if failure else y, mode="lines", name=f"{arm} (weighted)",
                                     line={"color": _color(a), "dash": "dash", "shape": "hv"}))
    yaxis = {"title": ytitle, "tickformat": ".0%"}
    yaxis |= {"range": [0, 1.02]} if full_range else {"rangemode": "tozero"}
    fig.update_layout(title=title, xaxis_title="days from index", yaxis=yaxis)
    return fig


def love_plot(covariates: list[dict], limit: float = 0.1) -> go.Figure:
    cov = sorted(covariates, key=lambda c: abs(c["smd_before"] or 0))
    names = [c["name"] for c in cov]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[abs(c["smd_before"] or 0) for c in cov], y=names, mode="markers",
                             name="before weighting", marker={"color": COLORS[1], "symbol": "circle-open", "size": 9}))
    fig.add_trace(go.Scatter(x=[abs(c["smd_after"] or 0) for c in cov], y=names, mode="markers", name="after weighting",
                             marker={"color": COLORS[0], "size": 8}))
    fig.add_vline(x=limit, line_dash="dash", line_color="#777")
    fig.update_layout(title="Love plot: |standardized mean difference|", xaxis_title="|SMD|")
    return fig


def ps_overlap(bins_frame: pd.DataFrame, arms: tuple[str, str], threshold: int, bins: int = 20) -> go.Figure:
    """Share of each arm per propensity-score bin (counts per arm and bin, sql/reporting/propensity_bins.sql);
    bins with 1..threshold−1 patients are blanked (SAP 8)."""
    edges = np.linspace(0, 1, bins + 1)
    mids = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for a, arm in enumerate(arms):
        part = bins_frame[bins_frame["arm"] == arm]
        counts = np.bincount(part["bin"].to_numpy(int), weights=part["patients"].to_numpy(float), minlength=bins)
        total = counts.sum()
        share = [None if 0 < n < threshold else (round(n / total, 10) if total else None) for n in counts]
        fig.add_trace(go.Bar(x=mids, y=share, name=arm, marker_color=_rgba(_color(a), 0.6), width=1 / bins))
    fig.update_layout(barmode="overlay", title="Propensity-score overlap (share of each arm per bin; small bins blank)",
                      xaxis_title="propensity score", yaxis={"title": "share of arm", "tickformat": ".0%"})
    return fig


def forest(rows: list[dict]) -> go.Figure:
    """Two panels: adjusted ODI change difference at the primary visit, adjusted reintervention HR."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["ODI change difference (adjusted)",
                                                        "Reintervention hazard ratio (adjusted)"], shared_yaxes=True)
    for col, kind in ((1, "mean_change_difference"), (2, "hazard_ratio")):
        pts = [r for r in rows if r["measure"] == kind]
        data = [{"value": r["estimate"], "ci": r["ci"]} for r in pts]
        plus, minus = _err(data)
        # The pair's interaction p (SAP 6 v2) on hover; exploratory, no multiplicity adjustment (title).
        hover = [f"interaction p = {r['interaction_p']:.4f}" if r.get("interaction_p") is not None
                 else "interaction p: not available" for r in pts]
        fig.add_trace(go.Scatter(x=[r["estimate"] for r in pts], y=[r["label"] for r in pts], mode="markers",
                                 marker={"color": COLORS[0], "size": 9, "symbol": "square"}, showlegend=False,
                                 text=hover, error_x={"type": "data", "array": plus, "arrayminus": minus}),
                      row=1, col=col)
        fig.add_vline(x=0 if col == 1 else 1, line_dash="dash", line_color="#777", row=1, col=col)
    fig.update_xaxes(type="log", row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title={"text": "Subgroups: exploratory, no multiplicity adjustment"}, margin={"t": 80})
    return fig


def drop_trend(drops: list[dict]) -> go.Figure:
    """Per drop version in delivery order: rows accepted and share quarantined."""
    ingested = [d for d in drops if d["status"] == "ingested"]
    labels = [f"{d['drop_id']} v{d.get('version', 1)}" for d in ingested]
    accepted = [sum(f["accepted"] for f in d["files"]) for d in ingested]
    read_ = [sum(f["rows_read"] for f in d["files"]) for d in ingested]
    quarantined = [sum(f["quarantined"] for f in d["files"]) for d in ingested]
    share = [q / r if r else None for q, r in zip(quarantined, read_, strict=True)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=labels, y=accepted, name="rows accepted", marker_color=COLORS[0]), secondary_y=False)
    fig.add_trace(go.Scatter(x=labels, y=share, name="share quarantined", mode="lines+markers",
                             line={"color": COLORS[1]}), secondary_y=True)
    fig.update_yaxes(title_text="rows accepted", secondary_y=False)
    fig.update_yaxes(title_text="share of rows quarantined", tickformat=".1%", rangemode="tozero", secondary_y=True)
    fig.update_layout(title="Ingest trend over drops")
    return fig


def completeness_lines(rows: list[dict], arms: tuple[str, str], visits: list[str], target: float) -> go.Figure:
    fig = rate_bars(rows, arms, visits, "rate", "ci", "Follow-up completeness per visit (any instrument)")
    fig.add_hline(y=target, line_dash="dash", line_color="#777")
    return fig


def completeness_by_cut(rows: list[dict], arms: tuple[str, str], visits: list[str], target: float) -> go.Figure:
    """Completeness per visit after each drop, one panel per arm: does follow-up fill in or decay as drops
    arrive? Withheld rates are gaps."""
    cuts = sorted({r["cut"] for r in rows})  # drop ids are long: the axis shows the cut number (table: drop id)
    fig = make_subplots(rows=1, cols=len(arms), subplot_titles=list(arms), shared_yaxes=True)
    palette = ("#1f5fa8", "#c8553d", "#2a9d8f", "#e9c46a", "#6a4c93", "#8d99ae", "#f4a261", "#264653", "#b5838d")
    for a, arm in enumerate(arms):
        for v, visit in enumerate(visits):
            pts = {r["cut"]: r["rate"] for r in rows if r["arm"] == arm and r["visit"] == visit}
            if not pts:
                continue
            fig.add_trace(go.Scatter(x=cuts, y=[pts.get(c) for c in cuts], mode="lines+markers", name=visit,
                                     legendgroup=visit, showlegend=a == 0, line={"color": palette[v % len(palette)]}),
                          row=1, col=a + 1)
        fig.add_hline(y=target, line_dash="dash", line_color="#777", row=1, col=a + 1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(title_text="after drop number", tickmode="array", tickvals=cuts)
    fig.update_layout(title="Follow-up completeness per visit after each drop (data cut)")
    return fig


def site_forest(member: dict) -> go.Figure:
    """Site heterogeneity (SAP 6): each pooled site's adjusted ODI change difference with its 95% CI, the pooled
    random-effects estimate as a diamond (its width the HKSJ CI) and the 95% prediction interval below it."""
    sites = member["sites"]
    fig = go.Figure()
    y = list(range(len(sites)))
    data = [{"value": r["estimate"], "ci": r["ci"]} for r in sites]
    plus, minus = _err(data)
    fig.add_trace(go.Scatter(x=[r["estimate"] for r in sites], y=y, mode="markers", name="site (95% CI)",
                             marker={"color": COLORS[0], "size": 9, "symbol": "square"},
                             error_x={"type": "data", "array": plus, "arrayminus": minus}))
    ticks, labels = list(y), [str(r["site"]) for r in sites]
    if member.get("estimate") is not None and member.get("ci"):
        lo, hi = member["ci"]
        est, at = member["estimate"], len(sites) + 0.5
        fig.add_trace(go.Scatter(x=[lo, est, hi, est, lo], y=[at, at - 0.3, at, at + 0.3, at], fill="toself",
                                 mode="lines", line={"color": COLORS[1]}, fillcolor=COLORS[1],
                                 name="pooled (random effects, 95% CI)", hoverinfo="x"))
        ticks.append(at)
        labels.append("pooled")
        if member.get("prediction_interval"):
            pl, pu = member["prediction_interval"]
            at_pi = at + 1
            fig.add_trace(go.Scatter(x=[pl, pu], y=[at_pi, at_pi], mode="lines+markers", name="95% prediction interval",
                                     line={"color": COLORS[1], "dash": "dot"},
                                     marker={"symbol": "line-ns-open", "size": 12, "color": COLORS[1]}))
            ticks.append(at_pi)
            labels.append("prediction interval")
    fig.add_vline(x=0, line_dash="dash", line_color="#777")
    fig.update_yaxes(tickvals=ticks, ticktext=labels, autorange="reversed")
    fig.update_xaxes(title_text=f"adjusted {member['instrument']} change difference at {member['visit']} "
                                "(treatment − comparator)")
    fig.update_layout(title="Site heterogeneity: adjusted difference per site and pooled")
    return fig


def cc_vs_mar(estimates: list[dict], arms: tuple[str, str], visits: list[str], instrument: str = "ODI") -> go.Figure:
    """Mean change by visit per arm, complete case (solid, open markers) beside MAR (dashed, filled), 95% CIs:
    the four series side by side at each visit (small offsets) so that the intervals do not hide each other.
    `estimates`: rows {visit, arm, cc: pro_change row, mar: pro_change_mar row} (already disclosure-controlled)."""
    fig = go.Figure()
    offsets = {(0, "cc"): -0.21, (0, "mar"): -0.07, (1, "cc"): 0.07, (1, "mar"): 0.21}
    for a, arm in enumerate(arms):
        for kind, label, dash, symbol in (("cc", "complete case", "solid", "circle-open"),
                                          ("mar", "MAR (IPAW)", "dash", "circle")):
            pts = [r for r in estimates if r["arm"] == arm and r[kind].get("mean_change") is not None
                   and r["visit"] in visits]
            data = [{"value": r[kind]["mean_change"], "ci": r[kind].get("ci")} for r in pts]
            plus, minus = _err(data)
            fig.add_trace(go.Scatter(
                x=[visits.index(r["visit"]) + offsets[(a, kind)] for r in pts], y=[d["value"] for d in data],
                mode="lines+markers", name=f"{arm}, {label}", line={"color": _color(a), "dash": dash},
                marker={"symbol": symbol, "size": 8},
                error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True}))
    fig.add_hline(y=0, line_dash="dot", line_color="#777")
    fig.update_layout(title=f"Mean {instrument} change from baseline: complete case vs MAR (95% CI)",
                      yaxis_title=f"mean {instrument} change (negative = better)",
                      xaxis={"tickmode": "array", "tickvals": list(range(len(visits))), "ticktext": visits,
                             "range": [-0.5, len(visits) - 0.5]})
    return fig
