"""Figures of an Earth entry: the skip profile, bank-angle, load and heating histories, and the
ground track zoomed on the landing region with the aim point."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F

_REGIME_COLOURS = {"first_entry": "#1f5fa8", "skip": "#8e44ad", "second_entry": "#d35400",
                   "final": "#c0392b", "bank_hold": "#7f8c8d", "parachute": "#16a085",
                   "drogue": "#16a085", "main": "#27ae60"}


def _col(series, name) -> np.ndarray:
    return np.asarray(series.column(name).to_numpy(zero_copy_only=False))


def _segments(series):
    """(regime, index array) runs in time order, each extended by one sample so lines join."""
    regime = np.asarray(series.column("regime").to_pylist())
    starts = np.flatnonzero(np.r_[True, regime[1:] != regime[:-1]])
    ends = np.r_[starts[1:], len(regime)]
    return [(regime[s], np.arange(s, min(e + 1, len(regime)))) for s, e in zip(starts, ends, strict=True)]


def entry_profile_figure(series) -> go.Figure:
    """Altitude against downrange and against time, coloured by guidance regime (the skip shows)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("altitude vs downrange", "altitude vs time"))
    t, dr, h = _col(series, "time_s"), _col(series, "downrange_km"), _col(series, "altitude_km")
    shown = set()
    for regime, idx in _segments(series):
        colour = _REGIME_COLOURS.get(regime, "#555")
        for c, x in ((1, dr), (2, t / 60.0)):
            fig.add_trace(go.Scatter(x=x[idx], y=h[idx], mode="lines", line=dict(color=colour, width=2.5),
                                     name=regime, legendgroup=regime, showlegend=regime not in shown),
                          row=1, col=c)
            shown.add(regime)
    fig.update_xaxes(title_text="downrange from entry interface (km)", row=1, col=1)
    fig.update_xaxes(title_text="time from entry interface (min)", row=1, col=2)
    fig.update_yaxes(title_text="altitude (km)", row=1, col=1)
    return F._styled(fig, 460)


def entry_loads_figure(series, max_g: float | None = None) -> go.Figure:
    """Bank angle, sensed load and stagnation-point heat flux against time."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("bank angle (°)", "sensed load (g)", "heat flux (MW/m²)"))
    t = _col(series, "time_s") / 60.0
    fig.add_trace(go.Scatter(x=t, y=_col(series, "bank_deg"), mode="lines", name="bank",
                             line=dict(color="#1f5fa8")), row=1, col=1)
    fig.add_trace(go.Scatter(x=t, y=_col(series, "g_load"), mode="lines", name="g",
                             line=dict(color="#c0392b")), row=2, col=1)
    if max_g:
        fig.add_hline(y=max_g, line=dict(color="#c0392b", dash="dash"), row=2, col=1)
    fig.add_trace(go.Scatter(x=t, y=_col(series, "heat_flux_w_m2") / 1e6, mode="lines", name="heat flux",
                             line=dict(color="#d35400")), row=3, col=1)
    fig.update_xaxes(title_text="time from entry interface (min)", row=3, col=1)
    fig.update_layout(showlegend=False)
    return F._styled(fig, 640)


def regional_track_figure(cols, body: str, sites: list[dict], colours: dict[str, str],
                          lat_range=None, lon_range=None) -> go.Figure:
    """The ground track over the body's map, zoomed on the track (and sites) with a margin."""
    fig = F.ground_track_figure(cols, body, sites, colours)
    on = cols.body == body
    lats = list(cols.lat_deg[on]) + [s["lat_deg"] for s in sites if s.get("body") == body]
    lons = list(cols.lon_deg[on]) + [s["lon_deg"] for s in sites if s.get("body") == body]
    lat_range = lat_range or [max(-90.0, np.nanmin(lats) - 5.0), min(90.0, np.nanmax(lats) + 5.0)]
    lon_range = lon_range or [max(-180.0, np.nanmin(lons) - 5.0), min(180.0, np.nanmax(lons) + 5.0)]
    fig.update_xaxes(range=lon_range, dtick=10)
    fig.update_yaxes(range=lat_range, dtick=10)
    return fig
