"""Figures of the lunar-descent leg: the descent profile (height, speeds, throttle, attitude against
time), the hover-area hazard map with the aim point and the chosen site, and the landing site on a
patch of the global DEM with the descent's ground track.

Assumptions and limitations
    The DEM patch is the 8 px/deg global DEM (:mod:`guanghan.environment.lunar_dem`) resampled at
    1 km: it shows the regional relief only; the hazard map is the lidar map at the hover
    (decimated to every 8th lidar pixel).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.legs import FigureInputs, register_figures
from guanghan.environment import lunar_dem

_PHASE_COLOURS = {"main_braking": "#1f5fa8", "rapid_adjustment": "#8e44ad", "approach": "#d35400",
                  "hover": "#16a085", "divert": "#c0392b", "vertical_descent": "#27ae60",
                  "free_fall": "#7f8c8d", "touchdown": "#000000"}
#: half-width (m) and spacing (m) of the DEM patch around the site
DEM_PATCH_HALF_M, DEM_PATCH_STEP_M = 40_000.0, 1_000.0


def _col(table, name) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def descent_profile_figure(series, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Height, horizontal/vertical speed, throttle and tilt against time, coloured by phase."""
    phase = _col(series, "phase")
    idx = F.decimate_indices(phase, max(50, max_points // 5))
    t = _col(series, "t_s")[idx]
    ph = phase[idx]
    panels = (("height_m", "height over terrain (m)"),
              ("speed_horizontal_m_s", "speed (m/s): horizontal ─, vertical ┄"),
              ("throttle", "throttle"), ("tilt_deg", "thrust tilt from vertical (°)"))
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[p[1] for p in panels])
    starts = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1]])
    ends = np.r_[starts[1:], len(ph)]
    shown = set()
    for s, e in zip(starts, ends):
        k = np.arange(s, min(e + 1, len(ph)))
        name = str(ph[s])
        colour = _PHASE_COLOURS.get(name, "#555")
        for row, (col, _) in enumerate(panels, 1):
            fig.add_trace(go.Scatter(x=t[k], y=_col(series, col)[idx][k], mode="lines",
                                     line=dict(color=colour, width=2), name=name, legendgroup=name,
                                     showlegend=name not in shown), row=row, col=1)
            shown.add(name)
        fig.add_trace(go.Scatter(x=t[k], y=_col(series, "speed_vertical_m_s")[idx][k], mode="lines",
                                 line=dict(color=colour, width=1.5, dash="dot"), name=name,
                                 legendgroup=name, showlegend=False), row=2, col=1)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="time from powered-descent start (s)", row=4, col=1)
    return F._styled(fig, 820)


def hazard_map_figure(table, site_east_m: float | None, site_north_m: float | None) -> go.Figure:
    """Hazard map of the hover area: safe / hazard / not imaged, the aim point and chosen site."""
    e, n = _col(table, "east_m"), _col(table, "north_m")
    xs, ys = np.unique(e), np.unique(n)
    safe = _col(table, "safe").astype(bool)
    hazard = _col(table, "hazard").astype(bool)
    slope = _col(table, "slope_deg")
    code = np.where(np.isnan(slope), 0.0, np.where(safe, 2.0, np.where(hazard, 1.0, 1.5)))
    fig = go.Figure(go.Heatmap(
        x=xs, y=ys, z=code.reshape(len(ys), len(xs)), zmin=0, zmax=2, showscale=False,
        colorscale=[[0, "#bbbbbb"], [0.5, "#c0392b"], [0.75, "#f5b041"], [1, "#27ae60"]],
        hovertemplate="east %{x:.1f} m, north %{y:.1f} m<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="aim point (LROC site)",
                             marker=dict(symbol="x", size=14, color="#1f5fa8")))
    if site_east_m is not None:
        fig.add_trace(go.Scatter(x=[site_east_m], y=[site_north_m], mode="markers",
                                 name="chosen site", marker=dict(symbol="star", size=16,
                                                                 color="#000000")))
    fig.update_xaxes(title_text="east of the aim point (m)")
    fig.update_yaxes(title_text="north of the aim point (m)", scaleanchor="x")
    return F._styled(fig, 560)


def approach_map_figure(table, approach_site: tuple, hover_site: tuple | None) -> go.Figure:
    """Coarse (approach camera) map: the safe-area fraction around each point, hazards in red,
    the aim point, the approach's re-targeted hover point and the site chosen at the hover."""
    e, n = _col(table, "east_m"), _col(table, "north_m")
    xs, ys = np.unique(e), np.unique(n)
    score = np.where(_col(table, "hazard").astype(bool), np.nan, _col(table, "safe_area_fraction"))
    fig = go.Figure(go.Heatmap(
        x=xs, y=ys, z=score.reshape(len(ys), len(xs)), zmin=0, zmax=1, colorscale="Greens",
        colorbar=dict(title="safe area"),
        hovertemplate="east %{x:.0f} m, north %{y:.0f} m: %{z:.2f}<extra></extra>"))
    haz = _col(table, "hazard").astype(bool)
    fig.add_trace(go.Scattergl(x=e[haz], y=n[haz], mode="markers", name="hazard (camera)",
                               marker=dict(size=3, color="#c0392b")))
    marks = [((0.0, 0.0), "aim point (LROC site)", "x", "#1f5fa8"),
             (approach_site, "approach re-target", "circle-open", "#000000")]
    if hover_site is not None and hover_site[0] is not None:
        marks.append((hover_site, "site chosen at the hover", "star", "#000000"))
    for (x, y), name, symbol, colour in marks:
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name=name,
                                 marker=dict(symbol=symbol, size=14, color=colour)))
    fig.update_xaxes(title_text="east of the aim point (m)")
    fig.update_yaxes(title_text="north of the aim point (m)", scaleanchor="x")
    return F._styled(fig, 560)


def landing_site_figure(lat_deg: float, lon_deg: float, series=None,
                        touchdown: tuple[float, float] | None = None) -> go.Figure:
    """DEM patch (heights, km) around the site with the descent ground track and the touchdown."""
    x, y, h = lunar_dem.local_grid(lat_deg, lon_deg, DEM_PATCH_HALF_M, DEM_PATCH_STEP_M)
    fig = go.Figure(go.Heatmap(x=x / 1e3, y=y / 1e3, z=h / 1e3, colorscale="Earth",
                               colorbar=dict(title="height (km)"),
                               hovertemplate="%{x:.1f} km E, %{y:.1f} km N: %{z:.2f} km<extra></extra>"))
    if series is not None:
        e, n = _col(series, "east_m") / 1e3, _col(series, "north_m") / 1e3
        inside = (np.abs(e) <= DEM_PATCH_HALF_M / 1e3) & (np.abs(n) <= DEM_PATCH_HALF_M / 1e3)
        fig.add_trace(go.Scatter(x=e[inside], y=n[inside], mode="lines", name="descent ground track",
                                 line=dict(color="#ffffff", width=2)))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="LROC site (aim)",
                             marker=dict(symbol="x", size=12, color="#c0392b")))
    if touchdown is not None:
        fig.add_trace(go.Scatter(x=[touchdown[0] / 1e3], y=[touchdown[1] / 1e3], mode="markers",
                                 name="touchdown", marker=dict(symbol="star", size=14,
                                                               color="#000000")))
    fig.update_xaxes(title_text="east of the site (km)")
    fig.update_yaxes(title_text="north of the site (km)", scaleanchor="x")
    return F._styled(fig, 560)


def lunar_descent_figures(inp: FigureInputs, phase: str) -> list:
    series = inp.series.get(f"{phase}.descent")
    if series is None or series.num_rows == 0:
        return []
    slug = phase.replace("_", "-")
    s = inp.summary
    out = [(f"fig-descent-profile-{slug}", "Powered-descent profile",
            "Height over the terrain (log scale), horizontal (solid) and vertical (dotted) speed, "
            "throttle and thrust tilt from the local vertical, coloured by descent phase.",
            descent_profile_figure(series, inp.max_points))]
    cmap = inp.series.get(f"{phase}.approach_hazard_map")
    if cmap is not None and cmap.num_rows:
        out.append((f"fig-approach-map-{slug}", "Approach camera hazard map",
                    f"Coarse hazard avoidance at ~{s.get(f'{phase}.approach_ground_sample_distance_m', 0):.1f}"
                    " m per pixel: the fraction of hazard-free ground within the hover's divert "
                    "radius around each point (green), camera hazards (red); the approach was "
                    "re-targeted from the aim point (cross) to the circle, and the hover's lidar "
                    "chose the star.",
                    approach_map_figure(cmap, (s.get(f"{phase}.approach_site_east_m", 0.0),
                                               s.get(f"{phase}.approach_site_north_m", 0.0)),
                                        (s.get(f"{phase}.hazard_site_east_m"),
                                         s.get(f"{phase}.hazard_site_north_m")))))
    hmap = inp.series.get(f"{phase}.hazard_map")
    if hmap is not None and hmap.num_rows:
        out.append((f"fig-hazard-map-{slug}", "Hover-area hazard map",
                    "Lidar hazard map at the hover (every 8th pixel): green safe, amber usable but "
                    "too close to a hazard, red hazard (slope, roughness or shadow), grey not "
                    "imaged; the cross is the aim point, the star the chosen site.",
                    hazard_map_figure(hmap, s.get(f"{phase}.hazard_site_east_m"),
                                      s.get(f"{phase}.hazard_site_north_m"))))
    lat, lon = s.get(f"{phase}.aim_lat_deg"), s.get(f"{phase}.aim_lon_deg")
    if lat is not None and lon is not None:
        last = series.num_rows - 1
        td = (float(series.column("east_m")[last].as_py()),
              float(series.column("north_m")[last].as_py()))
        out.append((f"fig-landing-dem-{slug}", "Landing site on the DEM",
                    "The global DEM (3.8 km pixels) in an 80 km square around the site, with the "
                    "last part of the descent's ground track and the touchdown.",
                    landing_site_figure(lat, lon, series, td)))
    return out


register_figures("lunar_descent", lunar_descent_figures)
