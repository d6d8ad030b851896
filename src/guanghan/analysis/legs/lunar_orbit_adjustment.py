"""Figure of the lunar-orbit adjustment leg: the circularisation passes scanned (the site's
predicted distance from the plane at the powered descent for each), and the altitude over the
leg with the circularisation and the plane trim.

Inputs are the run's plain outputs: the leg's ``scan`` series (UTC of each propagated pass, the
predicted offset in km over the mean sphere, the chosen pass), the trajectory table's rows of the
phase and its events. A leg flown from a stored design has no scan (the left panel says so).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.legs import FigureInputs, register_figures

_BURNS = {"circularisation_start": "circularisation", "plane_trim_start": "plane trim"}


def adjustment_figure(scan, trajectory, events: list[dict], phase: str, summary: dict,
                      max_points: int) -> go.Figure:
    """Left: predicted site offset (km) at the descent against the circularisation pass; right:
    altitude (km over the mean sphere) over the leg, burns marked."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, column_widths=[0.45, 0.55],
                        subplot_titles=("circularisation pass scan", "altitude over the adjustment"))
    rows = scan.to_pylist() if scan is not None and scan.num_rows else []
    if rows:
        fig.add_trace(go.Scatter(x=[r["utc"] for r in rows], y=[r["site_offset_km"] for r in rows],
                                 mode="lines+markers", line=dict(color="#1f77b4", width=1),
                                 marker=dict(size=6), name="pass propagated",
                                 hovertemplate="pass %{x}<br>site %{y:,.2f} km from the plane<extra></extra>"),
                      1, 1)
        chosen = [r for r in rows if r["chosen"]]
        fig.add_trace(go.Scatter(x=[r["utc"] for r in chosen], y=[r["site_offset_km"] for r in chosen],
                                 mode="markers", marker=dict(symbol="star", size=14, color="#d62728"),
                                 name="pass flown"), 1, 1)
        fig.add_hline(y=0.0, line=dict(color="#6b7280", width=1, dash="dot"), row=1, col=1)
    else:
        fig.add_annotation(text="flown from a stored design: no scan", xref="x domain", yref="y domain",
                           x=0.5, y=0.5, showarrow=False, row=1, col=1)
    names = np.asarray(trajectory.column("phase").to_pylist(), dtype=object).astype(str)
    keep = np.nonzero(names == phase)[0]
    if keep.size:
        idx = keep[np.linspace(0, keep.size - 1, min(keep.size, max_points)).astype(int)]
        utc = np.asarray(trajectory.column("utc").to_pylist(), dtype=object)[idx]
        alt = np.asarray(trajectory.column("altitude_km").to_numpy(zero_copy_only=False), float)[idx]
        fig.add_trace(go.Scattergl(x=utc, y=alt, mode="lines", line=dict(color="#4c78a8", width=1),
                                   name="altitude", hovertemplate="%{x}<br>%{y:,.1f} km<extra></extra>"),
                      1, 2)
    for e in events:
        if e.get("phase") == phase and e["event"] in _BURNS:
            fig.add_vline(x=e["utc"], line=dict(color="#d62728", width=1, dash="dash"), row=1, col=2)
            fig.add_annotation(x=e["utc"], y=1.0, yref="y2 domain", text=_BURNS[e["event"]], showarrow=False,
                               xanchor="left", font=dict(size=11, color="#d62728"), row=1, col=2)
    fig.update_yaxes(title_text="site from the plane at the descent (km)", row=1, col=1)
    ticks = [100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000]
    fig.update_yaxes(title_text="altitude (km, log scale)", type="log", tickvals=ticks,
                     ticktext=[f"{t:,}" for t in ticks], row=1, col=2)
    if "orbit_adjustment.site_offset_km" in summary:
        fig.add_annotation(
            text=(f"after the trim ({summary.get('orbit_adjustment.trim_delta_v_m_s', 0.0):.2f} m/s) the site "
                  f"is {1e3 * abs(summary['orbit_adjustment.site_offset_km']):,.1f} m from the plane at the "
                  "descent"), xref="paper", yref="paper", x=0.0, y=-0.25, showarrow=False, xanchor="left")
    fig = F._styled(fig, 460)
    fig.update_layout(margin=dict(l=70, r=20, t=90, b=100), legend=dict(orientation="h", y=1.25))
    return fig


def lunar_orbit_adjustment_figures(inp: FigureInputs, phase: str) -> list:
    if not any(e.get("phase") == phase for e in inp.events):
        return []
    return [(f"fig-orbit-adjustment-{phase.replace('_', '-')}", "Orbit adjustment into the plane of the site",
             "Left: for each periselene pass of the capture ellipse that was propagated, the landing "
             "site's distance from the low orbit's plane at the powered descent had the stack been "
             "circularised there (impulsive model, full field); the star is the pass flown. Right: "
             "the altitude over the leg, from the capture ellipse to the low orbit, with the "
             "circularisation and the plane trim.",
             adjustment_figure(inp.series.get(f"{phase}.scan"), inp.trajectory, inp.events, phase,
                               inp.summary, inp.max_points))]


register_figures("lunar_orbit_adjustment", lunar_orbit_adjustment_figures)
