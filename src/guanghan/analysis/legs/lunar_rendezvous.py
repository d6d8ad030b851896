"""Figures of the lunar-rendezvous leg: the proximity approach in the target's LVLH (Hill) frame
with its holding points, range and range-rate, the relative-navigation error per axis with its
±3σ bounds, and the impact point of the disposed ascender.

Every figure reads one table of ``inputs.series`` (``<phase>.proximity``, ``.phasing_burns``,
``.impact``); a missing or empty table, or one without the columns a figure needs, drops that
figure and nothing else.

Assumptions and limitations
    Positions are the chaser relative to the target in the target's Hill frame as the leg writes
    them (radial = R-bar, up positive; along = V-bar; cross = orbit normal); the target is at the
    origin. Holding points are found, not read: runs of at least ``HOLD_MIN_S`` with |range-rate|
    below ``HOLD_RATE_M_S`` at a range above ``HOLD_MIN_RANGE_M`` (docking excluded); a hold
    whose range drifts slowly may be split or missed. Without ``range_rate_m_s`` it is the time
    derivative of the range. Range is drawn on a log axis, so zero range (contact) is not shown.
    The impact figure is a plain latitude/longitude plot (no basemap). Series are decimated so
    that a figure holds at most ``inputs.max_points`` plotted points
    (:func:`guanghan.analysis.figures.decimate_indices`); extrema between samples may be lost.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.legs import FigureInputs, register_figures

AXES = ("radial", "along", "cross")
HOLD_RATE_M_S, HOLD_MIN_S, HOLD_MIN_RANGE_M = 0.01, 60.0, 1.0
_TRUE, _EST, _HOLD = "#1f5fa8", "#d35400", "#16a085"


def _col(table, name) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _f(table, name) -> np.ndarray:
    return _col(table, name).astype(float)


def _table(inp: FigureInputs, phase: str, name: str, needs: tuple[str, ...]):
    """The series table ``<phase>.<name>`` when it has rows and every needed column, else None."""
    table = inp.series.get(f"{phase}.{name}")
    ok = table is not None and table.num_rows > 0 and set(needs) <= set(table.column_names)
    return table if ok else None


def _idx(n: int, budget: int) -> np.ndarray:
    return F.decimate_indices(np.zeros(n, np.int8), max(2, budget))


def holding_points(table) -> list[tuple[int, int]]:
    """(first, last) sample of every hold: |range-rate| small for long enough, not docked."""
    t, rng = _f(table, "t_s"), _f(table, "range_m")
    rate = _f(table, "range_rate_m_s") if "range_rate_m_s" in table.column_names \
        else np.gradient(rng, t) if len(t) > 1 else np.zeros_like(t)
    still = (np.abs(rate) < HOLD_RATE_M_S) & (rng > HOLD_MIN_RANGE_M)
    edges = np.flatnonzero(np.diff(np.r_[0, still.astype(np.int8), 0]))
    return [(a, b - 1) for a, b in zip(edges[0::2], edges[1::2]) if t[b - 1] - t[a] >= HOLD_MIN_S]


def lvlh_figure(table, max_points: int = F.MAX_POINTS) -> go.Figure:
    """V-bar (x) vs R-bar (y), and V-bar vs cross-track: true path, estimate, holds, target."""
    has_est = all(f"{a}_est_m" in table.column_names for a in ("radial", "along"))
    has_cross = "cross_m" in table.column_names
    holds = holding_points(table)
    rng = _f(table, "range_m")

    def build(budget: int) -> go.Figure:
        per = (1 + has_est) * (1 + has_cross)
        idx = _idx(table.num_rows, (budget - 2 * (len(holds) + 1)) // per)
        fig = make_subplots(rows=1 + has_cross, cols=1, vertical_spacing=0.1, subplot_titles=(
            "in-plane: along-track (V-bar) vs radial (R-bar)", "along-track vs cross-track")
            [:1 + has_cross])
        along = _f(table, "along_m")
        for row, ycol in ((1, "radial"), (2, "cross"))[:1 + has_cross]:
            first = row == 1
            fig.add_trace(go.Scatter(x=along[idx], y=_f(table, f"{ycol}_m")[idx], mode="lines",
                                     name="true", legendgroup="true", showlegend=first,
                                     line={"color": _TRUE, "width": 2}), row=row, col=1)
            if has_est and f"{ycol}_est_m" in table.column_names:
                fig.add_trace(go.Scatter(x=_f(table, "along_est_m")[idx],
                                         y=_f(table, f"{ycol}_est_m")[idx], mode="lines",
                                         name="on-board estimate", legendgroup="est",
                                         showlegend=first,
                                         line={"color": _EST, "width": 1.5, "dash": "dot"}),
                              row=row, col=1)
            if holds:
                mid = np.array([(a + b) // 2 for a, b in holds])
                fig.add_trace(go.Scatter(
                    x=along[mid], y=_f(table, f"{ycol}_m")[mid], mode="markers",
                    name="holding point", legendgroup="hold", showlegend=first,
                    text=[f"hold at {rng[m]:,.0f} m" for m in mid],
                    hovertemplate="%{text}<extra></extra>",
                    marker={"symbol": "square", "size": 9, "color": _HOLD}), row=row, col=1)
            fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="target",
                                     legendgroup="target", showlegend=first,
                                     marker={"symbol": "x", "size": 12, "color": "#000000"}),
                          row=row, col=1)
            fig.update_yaxes(title_text=f"{ycol} (m)", row=row, col=1)
        fig.update_xaxes(title_text="along-track, V-bar (m)")
        return F._styled(fig, 420 + 300 * has_cross)

    return F._fit(build, max_points)


def range_figure(table, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Range (log scale) and range-rate against time after the hand-over."""
    has_rate = "range_rate_m_s" in table.column_names
    idx = _idx(table.num_rows, max_points // (1 + has_rate))
    t, rng = _f(table, "t_s")[idx], _f(table, "range_m")[idx]
    fig = make_subplots(rows=1 + has_rate, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("range (m)", "range-rate (m/s)")[:1 + has_rate])
    fig.add_trace(go.Scatter(x=t, y=np.where(rng > 0, rng, np.nan), mode="lines", name="range",
                             line={"color": _TRUE, "width": 2}), row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=1)
    if has_rate:
        fig.add_trace(go.Scatter(x=t, y=_f(table, "range_rate_m_s")[idx], mode="lines",
                                 name="range-rate", line={"color": _EST, "width": 2}), row=2, col=1)
    fig.update_xaxes(title_text="time after the hand-over (s)", row=1 + has_rate, col=1)
    return F._styled(fig, 300 + 220 * has_rate)


def navigation_error_figure(table, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Relative-navigation error per axis with its ±3σ bounds against time."""
    axes = [a for a in AXES if {f"{a}_error_m", f"{a}_sigma3_m"} <= set(table.column_names)]
    idx = _idx(table.num_rows, max_points // (3 * max(1, len(axes))))
    t = _f(table, "t_s")[idx]
    fig = make_subplots(rows=len(axes), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[f"{a} error (m)" for a in axes])
    for row, a in enumerate(axes, 1):
        sig = np.abs(_f(table, f"{a}_sigma3_m")[idx])
        for sign, label in ((1.0, "+3σ"), (-1.0, "−3σ")):
            fig.add_trace(go.Scatter(x=t, y=sign * sig, mode="lines", name="±3σ", legendgroup="s",
                                     showlegend=row == 1 and sign > 0, hovertemplate=label,
                                     line={"color": "#7f8c8d", "width": 1, "dash": "dash"}),
                          row=row, col=1)
        fig.add_trace(go.Scatter(x=t, y=_f(table, f"{a}_error_m")[idx], mode="lines",
                                 name="error (estimate − true)", legendgroup="e",
                                 showlegend=row == 1, line={"color": _EST, "width": 1.5}),
                      row=row, col=1)
    fig.update_xaxes(title_text="time after the hand-over (s)", row=len(axes), col=1)
    return F._styled(fig, 200 + 200 * len(axes))


def impact_figure(lat_deg: float, lon_deg: float, utc: str | None = None) -> go.Figure:
    """The impact point on a plain latitude/longitude plot."""
    fig = go.Figure(go.Scatter(x=[lon_deg], y=[lat_deg], mode="markers", name="impact",
                               text=[f"{lat_deg:.2f}°, {lon_deg:.2f}°"
                                     + (f"<br>{utc} UTC" if utc else "")],
                               hovertemplate="%{text}<extra></extra>",
                               marker={"symbol": "x", "size": 14, "color": "#c0392b"}))
    fig.update_xaxes(title_text="longitude (°E)", range=[-180, 180], dtick=30)
    fig.update_yaxes(title_text="latitude (°N)", range=[-90, 90], dtick=30, scaleanchor="x")
    return F._styled(fig, 420)


def _lvlh_caption(inp: FigureInputs, phase: str) -> str:
    text = ("Chaser relative to the target (cross at the origin) in the target's LVLH frame: "
            "true path (solid) and on-board estimate (dotted); squares mark the holding points.")
    burns = _table(inp, phase, "phasing_burns", ("delta_v_m_s",))
    if burns is not None:
        text += (f" Before the hand-over: {burns.num_rows} phasing burns, "
                 f"{np.nansum(_f(burns, 'delta_v_m_s')):.1f} m/s.")
    s, pieces = inp.summary, []
    for key, fmt in (("rendezvous.docking_utc", "docking {} UTC"),
                     ("rendezvous.capture_speed_m_s", "capture speed {:.3f} m/s"),
                     ("rendezvous.capture_offset_m", "capture offset {:.3f} m"),
                     ("rendezvous.delta_v_m_s", "rendezvous Δv {:.1f} m/s")):
        try:
            if s.get(key) is not None:
                pieces.append(fmt.format(s[key]))
        except (TypeError, ValueError):
            pass
    return text + (" " + "; ".join(pieces).capitalize()[:1] + "; ".join(pieces)[1:] + "."
                   if pieces else "")


def rendezvous_figures(inp: FigureInputs, phase: str) -> list:
    slug, out = phase.replace("_", "-"), []
    prox = _table(inp, phase, "proximity", ("t_s", "range_m", "along_m", "radial_m"))
    if prox is not None:
        out.append((f"fig-rendezvous-lvlh-{slug}", "Rendezvous in the target's LVLH frame",
                    _lvlh_caption(inp, phase), lvlh_figure(prox, inp.max_points)))
    prox = _table(inp, phase, "proximity", ("t_s", "range_m"))
    if prox is not None:
        out.append((f"fig-rendezvous-range-{slug}", "Range and range-rate",
                    ("Range to the target (log scale) and its rate against time after the "
                    "hand-over to relative navigation."), range_figure(prox, inp.max_points)))
    if prox is not None and any(f"{a}_sigma3_m" in prox.column_names and f"{a}_error_m"
                                in prox.column_names for a in AXES):
        out.append((f"fig-rendezvous-navigation-{slug}", "Relative-navigation error",
                    ("Error of the on-board relative position per LVLH axis, with the filter's "
                    "±3σ bounds (dashed)."), navigation_error_figure(prox, inp.max_points)))
    impact = _table(inp, phase, "impact", ("lat_deg", "lon_deg"))
    if impact is not None:
        utc = str(_col(impact, "utc")[0]) if "utc" in impact.column_names else None
        lat, lon = float(_f(impact, "lat_deg")[0]), float(_f(impact, "lon_deg")[0])
        out.append((f"fig-ascender-impact-{slug}", "Ascender impact point",
                    f"Where the disposed ascender hit the Moon: {lat:.2f}°, {lon:.2f}°"
                    + (f" at {utc} UTC." if utc else "."), impact_figure(lat, lon, utc)))
    return out


register_figures("lunar_rendezvous", rendezvous_figures)
