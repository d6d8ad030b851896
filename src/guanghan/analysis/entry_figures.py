"""Figures of an Earth entry: the skip profile, bank-angle, load and heating histories, and the
ground track zoomed on the landing region with the aim point."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.environment.constants import EARTH_MEAN_RADIUS
from guanghan.environment.geodetic import cartesian_from_planetocentric, enu_basis

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
                          lat_range=None, lon_range=None, phases=None) -> go.Figure:
    """The ground track over the body's map, zoomed on the track of ``phases`` (all phases if
    None) and the sites inside that box, with a 5° margin."""
    on = cols.body == body
    if phases is not None:
        on &= np.isin(cols.phase.astype(str), list(phases))
    part = cols.subset(on)
    fig = F.ground_track_figure(part, body, sites, colours)
    lats, lons = list(part.lat_deg), list(part.lon_deg)
    lat_range = lat_range or [max(-90.0, np.nanmin(lats) - 5.0), min(90.0, np.nanmax(lats) + 5.0)]
    lon_range = lon_range or [max(-180.0, np.nanmin(lons) - 5.0), min(180.0, np.nanmax(lons) + 5.0)]
    fig.update_xaxes(range=lon_range, dtick=10)
    fig.update_yaxes(range=lat_range, dtick=10)
    return fig


def local_offsets_km(lat_deg, lon_deg, lat0_deg: float, lon0_deg: float,
                     radius_m: float = EARTH_MEAN_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """East and north (km) of points from (lat0, lon0) in the local tangent plane of a sphere of
    ``radius_m``: the body-fixed offset projected on the east/north unit vectors
    (``geodetic.enu_basis``); within 0.1 % of the ground distance up to ~300 km."""
    lat, lon = np.radians(np.asarray(lat_deg, float)), np.radians(np.asarray(lon_deg, float))
    r = cartesian_from_planetocentric(lat, lon, radius_m).reshape(-1, 3)
    r0 = cartesian_from_planetocentric(np.radians(lat0_deg), np.radians(lon0_deg), radius_m)
    enu = (r - r0.reshape(1, 3)) @ enu_basis(np.radians(lat0_deg), np.radians(lon0_deg)).T
    return enu[:, 0] / 1e3, enu[:, 1] / 1e3


def landing_area_figure(cols, site: dict, touchdown: tuple[float, float] | None = None,
                        phases=None, half_km: float | None = None) -> go.Figure:
    """The last part of the Earth track in km east/north of the aim point: track (coloured by
    altitude), aim point, touchdown and the miss distance; the box is ``half_km`` wide (default:
    3 × the miss, at least 25 km)."""
    on = cols.body == "EARTH"
    if phases is not None:
        on &= np.isin(cols.phase.astype(str), list(phases))
    part = cols.subset(on)
    east, north = local_offsets_km(part.lat_deg, part.lon_deg, site["lat_deg"], site["lon_deg"])
    td = None
    if touchdown is not None:
        td = local_offsets_km([touchdown[0]], [touchdown[1]], site["lat_deg"], site["lon_deg"])
        td = (float(td[0][0]), float(td[1][0]))
    miss = float(np.hypot(*td)) if td is not None else 0.0
    half = half_km or max(25.0, 3.0 * miss)
    inside = (np.abs(east) <= 1.5 * half) & (np.abs(north) <= 1.5 * half)
    text = [f"{s.replace('T', ' ')} UTC" for s in np.datetime_as_string(part.time[inside], unit="s")]
    fig = go.Figure(go.Scatter(
        x=east[inside], y=north[inside], mode="lines+markers", name="ground track",
        text=text, line=dict(color="#8b949e", width=1),
        marker=dict(size=4, color=part.altitude_km[inside], colorscale="Viridis",
                    colorbar=dict(title="altitude (km)"), showscale=True),
        hovertemplate="%{text}<br>%{x:.2f} km E, %{y:.2f} km N<br>altitude %{marker.color:.2f} km"
                      "<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers+text", name=f"aim: {site.get('name', '')}",
                             text=[site.get("name", "aim")], textposition="top center",
                             marker=dict(symbol="x", size=13, color="#c0392b")))
    if td is not None:
        fig.add_trace(go.Scatter(x=[td[0]], y=[td[1]], mode="markers", name=f"touchdown ({miss:.2f} km from the aim)",
                                 marker=dict(symbol="star", size=15, color="#000000")))
        angle = np.linspace(0, 2 * np.pi, 73)
        fig.add_trace(go.Scatter(x=miss * np.cos(angle), y=miss * np.sin(angle), mode="lines",
                                 name="miss distance", hoverinfo="skip",
                                 line=dict(color="#c0392b", width=1, dash="dot")))
    fig.update_xaxes(title_text="east of the aim point (km)", range=[-half, half])
    fig.update_yaxes(title_text="north of the aim point (km)", range=[-half, half],
                     scaleanchor="x")
    return F._styled(fig, 560)
