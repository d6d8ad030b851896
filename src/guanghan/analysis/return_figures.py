"""Figures of the trans-Earth leg: the return in the Earth–Moon rotating frame, the range from the
Earth and the Moon against time, and the Δv budget of the return burns.

Each builder takes plain tables (``pyarrow.Table`` with the trajectory schema of
``mission.trajectory_table``), event dicts and the summary dict, and returns a
``plotly.graph_objects.Figure`` in the house style of :mod:`guanghan.analysis.figures`.

Assumptions and limitations
- Rotating frame: origin at the Earth's centre, x̂ along the Earth→Moon vector, ẑ along the Moon's
  orbital angular momentum r × v (Moon relative to the Earth), ŷ = ẑ × x̂; axes are taken from the
  geometric DE440 state of the Moon at each sample's epoch (the instantaneous frame, not a uniformly
  rotating one). Distances are in km and not normalised by the Earth–Moon distance, so the Moon
  itself slides along the x axis between about 356,000 and 406,000 km; its disc is drawn where it
  is at the first plotted epoch and its path over the leg as a thin line on the axis.
- Moon-centred rows (``body == "MOON"``) are moved to the Earth's centre by adding the Moon's
  geometric J2000 position; light time and aberration are ignored (they matter below 1 km).
- Event positions are linearly interpolated in Earth-centred J2000 between the neighbouring samples
  (the orbiter's own track for ``orbiter_divert``); events outside the sampled span are not drawn.
- Earth and Moon are drawn to scale as filled discs of mean radius (6371.0 km and 1737.4 km)
  unless the radius is under :data:`MIN_DISC_FRACTION` of the plotted span (below about one pixel
  at report width); then a fixed-size marker stands in and its legend entry says so.
- The x–z side view shares the plan view's points, so the decimation budget (``max_points``, as in
  :mod:`figures`) covers both panels together.
- Δv values come from the events' ``delta_v_m_s`` details; a burn whose events carry none (the TEI
  burns log only thrust, Isp and duration) takes ``<phase>.<burn>_delta_v_m_s`` from the summary.
  A burn with no value anywhere is left out and named in a note under the chart.

References
- Szebehely, V. (1967), Theory of Orbits, Academic Press, ch. 1: synodic (rotating) coordinates of
  the restricted three-body problem, x axis through the primaries, z along their angular momentum.
  Departure here: the axes follow the actual DE440 Moon state instead of a circular orbit.
- IAU mean radii of the Earth and the Moon: Archinal, B. A. et al. (2018), "Report of the IAU
  Working Group on Cartographic Coordinates and Rotational Elements: 2015", Celest. Mech. Dyn.
  Astr. 130:22, Table 1 (via ``basemaps.MEAN_RADIUS_KM``).
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.basemaps import MEAN_RADIUS_KM
from guanghan.environment import ephemeris, time_scales
from guanghan.errors import GuanghanError

__all__ = ["MIN_DISC_FRACTION", "return_phases", "earth_centred_positions", "earth_moon_rotating",
           "return_overview_figure", "return_range_figure", "delta_v_budget_figure"]

MIN_DISC_FRACTION = 0.002  # disc radius / plotted span below which a marker replaces the disc
_SLACK_S = 1.0  # s an event may lie outside the sampled span and still be drawn at its end
_TEI_START = re.compile(r"^tei(\d+)_start$")
_BURN = re.compile(r"^(tei\d+)_(?:start|end)$|^(mcc\d+)$|^(orbiter_divert)$")
_MARKED = re.compile(r"^tei\d+_start$|^mcc\d+$|^(separation|orbiter_divert|soi_exit|entry_interface)$")
_BODY_COLOURS = {"EARTH": "#3a78c2", "MOON": "#9ea3aa"}
_RETURNER, _ORBITER, _EVENT = "#1f77b4", "#ff7f0e", "#d62728"
_BURN_COLOURS = {"tei": "#1f77b4", "mcc": "#2ca02c", "orbiter_divert": "#ff7f0e"}


# --------------------------------------------------------------------------- geometry

def return_phases(events: list[dict], phases=None) -> list[str]:
    """The trans-Earth phase names: ``phases`` if given, else those holding a ``teiN_start`` event."""
    if phases:
        return [str(p) for p in phases]
    found = list(dict.fromkeys(str(e.get("phase")) for e in events or []
                               if _TEI_START.match(str(e.get("event", "")))))
    if not found:
        raise GuanghanError("no trans-Earth phase: no event of kind tei1_start (or teiN_start) "
                            "in the events and no phase names given; pass phases=[...]")
    return found


def earth_centred_positions(body, ets, r_body_j2000) -> np.ndarray:
    """Earth-centred J2000 positions (m), shape (n, 3), of body-centred rows (``body`` per row).

    ``body``: "EARTH" or "MOON" per row; ``ets``: epochs (ET s); ``r_body_j2000``: (n, 3) (m).
    """
    body = np.char.upper(np.asarray(body, dtype=str))
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    r = np.array(r_body_j2000, dtype=float).reshape(-1, 3)
    unknown = sorted(set(body) - {"EARTH", "MOON"})
    if unknown:
        raise GuanghanError(f"trajectory column body = {unknown[0]!r}: the return figures handle "
                            "rows centred on EARTH or MOON only")
    moon = body == "MOON"
    if moon.any():
        r[moon] += ephemeris.position("MOON", "EARTH", ets[moon])
    return r


def earth_moon_rotating(ets, r_earth_j2000) -> np.ndarray:
    """Earth-centred J2000 positions (m) in the Earth–Moon rotating frame (m), shape (n, 3).

    x̂ = r_moon/|r_moon|, ẑ = (r_moon × v_moon)/|…|, ŷ = ẑ × x̂, from the Moon's DE440 state relative
    to the Earth at each epoch ``ets`` (ET s); Szebehely (1967) ch. 1 synodic axes.
    """
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    r = np.asarray(r_earth_j2000, dtype=float).reshape(-1, 3)
    if len(ets) != len(r):
        raise GuanghanError(f"earth_moon_rotating: {len(ets)} epochs for {len(r)} positions; "
                            "give one epoch per position")
    moon = ephemeris.state("MOON", "EARTH", ets)
    x_hat = moon[:, :3] / np.linalg.norm(moon[:, :3], axis=1, keepdims=True)
    h = np.cross(moon[:, :3], moon[:, 3:])
    z_hat = h / np.linalg.norm(h, axis=1, keepdims=True)
    y_hat = np.cross(z_hat, x_hat)
    dcm_rot_j2000 = np.stack([x_hat, y_hat, z_hat], axis=1)  # rows: rotating axes in J2000
    return np.einsum("nij,nj->ni", dcm_rot_j2000, r)


# --------------------------------------------------------------------------- inputs

def _column(table, name) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _track(table, phases=None):
    """(ets, phase, utc, Earth-centred J2000 positions (m)) of the rows in ``phases`` (all if None)."""
    if table is None or table.num_rows == 0:
        return np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, dtype=object), np.zeros((0, 3))
    phase = np.asarray(table.column("phase").to_pylist(), dtype=object)
    keep = np.isin(phase.astype(str), list(phases)) if phases is not None else np.ones(len(phase), bool)
    ets = _column(table, "et_s").astype(float)[keep]
    order = np.argsort(ets, kind="stable")
    r_body = np.column_stack([_column(table, c).astype(float) for c in ("x_m", "y_m", "z_m")])[keep]
    body = np.asarray(table.column("body").to_pylist(), dtype=object)[keep]
    utc = (np.asarray(table.column("utc").to_pylist(), dtype=object)[keep]
           if "utc" in table.column_names else np.array([""] * int(keep.sum()), dtype=object))
    r = earth_centred_positions(body[order].astype(str), ets[order], r_body[order]) if len(ets) else r_body
    return ets[order], phase[keep][order], utc[order], r


def _selected_track(trajectory, events, phases):
    names = return_phases(events, phases)
    ets, phase, utc, r = _track(trajectory, names)
    if len(ets) == 0:
        raise GuanghanError(f"trajectory has no rows of phase(s) {names}: nothing to plot for the "
                            "return; check the phase names")
    return names, ets, phase, utc, r


def _event_et(event) -> float | None:
    try:
        return float(time_scales.utc_to_et(str(event.get("utc", ""))))
    except (ValueError, GuanghanError):
        return None


def _label(kind: str) -> str:
    match = re.match(r"^(tei|mcc)(\d+)(?:_start)?$", kind)
    if match:
        return f"{match.group(1).upper()}-{match.group(2)}"
    return {"soi_exit": "SOI exit"}.get(kind, kind.replace("_", " "))


def _marked_events(events, names):
    """(label, et, event) of burns, separation and milestones of the return phases, in time order."""
    out = []
    for ev in events or []:
        kind = str(ev.get("event", ""))
        if str(ev.get("phase")) in names and _MARKED.match(kind):
            et = _event_et(ev)
            if et is not None:
                out.append((_label(kind), et, ev))
    return sorted(out, key=lambda item: item[1])


def _interpolate(ets, r, et) -> np.ndarray | None:
    """Position (m) at ``et`` (ET s) linear between samples; None outside the span (1 s slack for
    the millisecond rounding of event UTC strings)."""
    if len(ets) == 0 or et < ets[0] - _SLACK_S or et > ets[-1] + _SLACK_S:
        return None
    return np.array([np.interp(et, ets, r[:, k]) for k in range(3)])


# --------------------------------------------------------------------------- overview

def _disc(name, centre_km, radius_km, span_km, colour, legend, row) -> go.Scatter:
    if radius_km < MIN_DISC_FRACTION * span_km:
        return go.Scatter(x=[centre_km[0]], y=[centre_km[row]], mode="markers",
                          name=f"{name} (marker, not to scale)", legendgroup=name, showlegend=legend,
                          marker=dict(size=9, color=colour, line=dict(width=1, color="#1d2733")),
                          hovertemplate=f"<b>{name}</b> centre<extra></extra>")
    angle = np.linspace(0.0, 2 * np.pi, 73)
    return go.Scatter(x=(centre_km[0] + radius_km * np.cos(angle)).astype(np.float32),
                      y=(centre_km[row] + radius_km * np.sin(angle)).astype(np.float32),
                      mode="lines", fill="toself", fillcolor=colour, line=dict(color=colour, width=1),
                      name=f"{name} (to scale)", legendgroup=name, showlegend=legend,
                      hovertemplate=f"<b>{name}</b>, radius {radius_km:,.1f} km<extra></extra>")


def _path_trace(name, colour, utc, rot_km, idx, legend, row, dash="solid"):
    return go.Scatter(x=rot_km[idx, 0].astype(np.float32), y=rot_km[idx, row].astype(np.float32),
                      mode="lines", name=name, legendgroup=name, showlegend=legend,
                      line=dict(color=colour, width=2.2, dash=dash), text=utc[idx],
                      hovertemplate=f"<b>{name}</b><br>%{{text}}<br>x %{{x:,.0f}} km, "
                                    f"{'yz'[row - 1]} %{{y:,.0f}} km<extra></extra>")


def return_overview_figure(trajectory, orbiter, events: list[dict], phases=None,
                           max_points: int = F.MAX_POINTS) -> go.Figure:
    """The return in the Earth–Moon rotating frame (km): plan view (x–y) over side view (x–z).

    Returner path, orbiter divert path (``orbiter`` table, may be None), Earth and Moon discs to
    scale (or markers), and labelled markers at the burns, separation and entry interface.
    """
    names, ets, phase, utc, r = _selected_track(trajectory, events, phases)
    o_ets, o_phase, o_utc, o_r = _track(orbiter)
    rot_km = earth_moon_rotating(ets, r) / 1e3
    o_rot_km = earth_moon_rotating(o_ets, o_r) / 1e3 if len(o_ets) else np.zeros((0, 3))
    moon_km = ephemeris.position("MOON", "EARTH", ets) / 1e3
    moon_x_km = np.linalg.norm(moon_km, axis=1)
    marks = []
    for label, et, ev in _marked_events(events, names):
        use_orbiter = ev.get("event") == "orbiter_divert" and len(o_ets)
        p = _interpolate(o_ets, o_r, et) if use_orbiter else _interpolate(ets, r, et)
        if p is not None:
            marks.append((label, ev, earth_moon_rotating([et], p[None, :])[0] / 1e3))
    everything = np.vstack([rot_km, o_rot_km, [[0.0, 0.0, 0.0], [moon_x_km.max(), 0.0, 0.0]]])
    span_km = float(np.ptp(everything[:, 0]))

    def build(budget: int) -> go.Figure:
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                            row_heights=[0.7, 0.3], subplot_titles=(
                                "plan view (x–y)", "side view (x–z, z along the Moon's orbit normal)"))
        idx = F.decimate_indices(phase, budget)
        o_idx = F.decimate_indices(o_phase, max(2, budget // 10))
        for row in (1, 2):
            legend = row == 1
            fig.add_trace(_disc("Earth", (0.0, 0.0, 0.0), MEAN_RADIUS_KM["EARTH"], span_km,
                                _BODY_COLOURS["EARTH"], legend, row), row=row, col=1)
            fig.add_trace(_disc("Moon", (moon_x_km[0], 0.0, 0.0), MEAN_RADIUS_KM["MOON"], span_km,
                                _BODY_COLOURS["MOON"], legend, row), row=row, col=1)
            fig.add_trace(go.Scatter(x=[moon_x_km.min(), moon_x_km.max()], y=[0.0, 0.0], mode="lines",
                                     line=dict(color=_BODY_COLOURS["MOON"], width=5),
                                     name="Moon's range over the leg", showlegend=legend,
                                     hoverinfo="skip"), row=row, col=1)
            fig.add_trace(_path_trace("returner", _RETURNER, utc, rot_km, idx, legend, row),
                          row=row, col=1)
            if len(o_ets):
                fig.add_trace(_path_trace("orbiter divert", _ORBITER, o_utc, o_rot_km,
                                           o_idx, legend, row, dash="dash"), row=row, col=1)
            if marks:
                fig.add_trace(_event_markers(marks, legend, row), row=row, col=1)
        return fig

    fig = F._fit(build, max_points)
    _label_events(fig, marks, span_km)
    fig.update_xaxes(title_text="x, Earth → Moon (km)", row=2, col=1)
    fig.update_yaxes(title_text="y (km)", scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_yaxes(title_text="z (km)", scaleanchor="x2", scaleratio=1, row=2, col=1)
    fig = F._styled(fig, 660)
    fig.update_layout(margin=dict(l=60, r=20, t=60, b=50), legend=dict(y=1.06))
    return fig


def _event_markers(marks, legend, row) -> go.Scatter:
    return go.Scatter(
        x=[p[0] for _, _, p in marks], y=[p[row] for _, _, p in marks], mode="markers",
        name="events", legendgroup="events", showlegend=legend,
        marker=dict(symbol="diamond", size=9, color=_EVENT, line=dict(width=0.5, color="#1d2733")),
        text=[f"<b>{label}</b><br>{ev.get('utc', '')} UTC<br>{F.format_details(ev.get('details'))}"
              for label, ev, _ in marks],
        hovertemplate="%{text}<extra></extra>")


def _label_events(fig, marks, span_km) -> None:
    """Arrowed labels on the plan view, stacked upwards where events crowd together."""
    placed = []
    for label, _, p in marks:
        crowd = sum(np.hypot(p[0] - q[0], p[1] - q[1]) < 0.04 * span_km for q in placed)
        placed.append(p)
        fig.add_annotation(x=float(p[0]), y=float(p[1]), xref="x", yref="y", text=label,
                           showarrow=True, arrowhead=0, arrowwidth=1, arrowcolor="#9aa5b1",
                           ax=-40 if crowd % 2 else 40, ay=-26 - 20 * crowd,
                           font=dict(size=11), bgcolor="rgba(255,255,255,0.8)")


# --------------------------------------------------------------------------- range

def return_range_figure(trajectory, events: list[dict], phases=None,
                        max_points: int = F.MAX_POINTS) -> go.Figure:
    """Distance from the Earth and from the Moon (km, log axis) against hours since TEI-1."""
    names, ets, phase, utc, r = _selected_track(trajectory, events, phases)
    marks = _marked_events(events, names)
    tei1 = [et for label, et, _ in marks if label == "TEI-1"]
    et0 = tei1[0] if tei1 else float(ets[0])
    idx = F.decimate_indices(phase, max(2, max_points // 2))
    hours = (ets[idx] - et0) / 3600.0
    r_earth_km = np.linalg.norm(r[idx], axis=1) / 1e3
    r_moon_km = np.linalg.norm(r[idx] - ephemeris.position("MOON", "EARTH", ets[idx]), axis=1) / 1e3
    fig = go.Figure()
    for name, dist, colour in (("from the Earth", r_earth_km, _BODY_COLOURS["EARTH"]),
                               ("from the Moon", r_moon_km, "#6b7280")):
        fig.add_trace(go.Scatter(x=hours.astype(np.float32), y=dist.astype(np.float32), mode="lines",
                                 name=f"distance {name}", line=dict(color=colour, width=2.2),
                                 text=utc[idx], hovertemplate=f"<b>{name}</b><br>%{{text}}<br>"
                                 "%{x:.2f} h after TEI-1<br>%{y:,.0f} km<extra></extra>"))
    _event_lines(fig, [(label, (et - et0) / 3600.0) for label, et, _ in marks],
                 float(np.ptp(hours)) if len(hours) > 1 else 1.0)
    low, high = float(min(r_earth_km.min(), r_moon_km.min())), float(max(r_earth_km.max(), r_moon_km.max()))
    fig.update_yaxes(title_text="distance from the body's centre (km)", type="log",
                     range=[np.log10(0.7 * low), np.log10(6.0 * high)])  # headroom for the labels
    fig.update_xaxes(title_text="time since TEI-1 start (h)" if tei1 else
                     "time since the first sample (h)")
    return F._styled(fig, 440)


def _event_lines(fig, lines, span_h) -> None:
    """Dotted vertical lines with labels, stepped down where events crowd in time."""
    previous, level = None, 0
    for label, t_h in lines:
        level = level + 1 if previous is not None and t_h - previous < 0.03 * span_h else 0
        previous = t_h
        fig.add_shape(type="line", x0=t_h, x1=t_h, xref="x", y0=0, y1=1, yref="paper",
                      line=dict(color="#9aa5b1", width=1, dash="dot"))
        fig.add_annotation(x=t_h, y=1.0 - 0.07 * (level % 4), xref="x", yref="paper", text=label,
                           showarrow=False, xanchor="left", yanchor="top", font=dict(size=11),
                           bgcolor="rgba(255,255,255,0.8)")


# --------------------------------------------------------------------------- Δv budget

def _burn_key(kind: str) -> str | None:
    match = _BURN.match(kind)
    return next((g for g in match.groups() if g), None) if match else None


def _burns(summary: dict, events: list[dict]):
    """[(key, label, Δv (m/s) or None)] of the return burns in time order."""
    values, phase_of = {}, {}
    for ev in sorted(events or [], key=lambda e: str(e.get("utc", ""))):
        key = _burn_key(str(ev.get("event", "")))
        if key is None:
            continue
        phase_of.setdefault(key, str(ev.get("phase")))
        dv = (ev.get("details") or {}).get("delta_v_m_s")
        if dv is not None and values.get(key) is None:
            values[key] = float(dv)
        values.setdefault(key, None)
    for key, dv in values.items():
        if dv is None:
            found = (summary or {}).get(f"{phase_of[key]}.{key}_delta_v_m_s")
            values[key] = float(found) if found is not None else None
    return [(key, _label(key), dv) for key, dv in values.items()]


def delta_v_budget_figure(summary: dict, events: list[dict]) -> go.Figure:
    """Horizontal bars of the Δv (m/s) of TEI-1, TEI-2, each MCC and the orbiter divert, labelled."""
    burns = _burns(summary, events)
    shown = [(key, label, dv) for key, label, dv in burns if dv is not None]
    missing = [label for _, label, dv in burns if dv is None]
    labels = [label for _, label, _ in shown]
    fig = go.Figure(go.Bar(
        x=[dv for _, _, dv in shown], y=labels, orientation="h",
        marker_color=[_BURN_COLOURS.get(re.sub(r"\d+$", "", key), "#7f7f7f") for key, _, _ in shown],
        text=[f"{dv:,.1f} m/s" for _, _, dv in shown], textposition="outside", cliponaxis=False,
        hovertemplate="<b>%{y}</b><br>Δv %{x:,.2f} m/s<extra></extra>", showlegend=False))
    stack = sum(dv for key, _, dv in shown if key != "orbiter_divert")
    note = f"TEI + MCC (orbiter–returner stack): {stack:,.1f} m/s"
    if missing:
        note += f" · no Δv recorded for {', '.join(missing)}"
    if not burns:
        note = "no return burns in the events"
    fig.add_annotation(text=note, xref="paper", yref="paper", x=0.0, y=-0.25 if shown else 0.5,
                       showarrow=False, xanchor="left", yanchor="top", font=dict(size=12))
    top = max((dv for _, _, dv in shown), default=1.0)
    fig.update_xaxes(title_text="Δv (m/s)", range=[0.0, 1.2 * max(top, 1e-3)])
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)))
    fig = F._styled(fig, 170 + 42 * max(len(shown), 1))
    fig.update_layout(margin=dict(l=110, r=40, t=30, b=90))
    return fig
