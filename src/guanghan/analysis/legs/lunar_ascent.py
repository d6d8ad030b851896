"""Figures of the lunar-ascent leg: the ascent profile (altitude and terrain clearance, inertial and
relative speed, pitch and yaw, throttle against time, coloured by guidance phase), the navigation
error of the ascent, and the launch-window scan (out-of-plane angle and plane-change Δv).

Every figure reads one table of ``inputs.series`` (``<phase>.ascent``, ``<phase>.launch_windows``);
a missing or empty table, or one without the columns a figure needs, drops that figure and nothing
else. Optional columns of the profile (a speed, yaw, throttle, ...) drop only their own trace.

Assumptions and limitations
    Times are seconds from the ascent's ignition (the table's ``t_s``); UTC is shown in the hover
    of the altitude trace only. Without a ``phase`` column the whole ascent is drawn as one phase.
    The captions' numbers come from the summary keys ``ascent.*`` (absent keys are left out); the
    on-board vs ground-loop comparison is the Monte-Carlo failure rates and apoapsis-error RMS the
    leg publishes, not recomputed here. Series are decimated so that a figure holds at most
    ``inputs.max_points`` plotted points (:func:`guanghan.analysis.figures.decimate_indices`,
    phase ends kept); extrema between samples may be lost.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.legs import FigureInputs, register_figures

_PHASE_COLOURS = {"vertical_rise": "#1f5fa8", "pitch_over": "#8e44ad", "guidance": "#d35400",
                  "terminal": "#16a085", "coast": "#7f8c8d", "insertion": "#000000"}
#: profile panels: (row, column, scale, line dash, legend label of the variable)
_PROFILE = ((1, "altitude_m", 1e-3, "solid", "altitude"),
            (1, "terrain_clearance_m", 1e-3, "dot", "terrain clearance"),
            (2, "speed_inertial_m_s", 1.0, "solid", "inertial speed"),
            (2, "speed_relative_m_s", 1.0, "dot", "speed relative to the surface"),
            (3, "pitch_deg", 1.0, "solid", "pitch"),
            (3, "yaw_deg", 1.0, "dot", "yaw"),
            (4, "throttle", 1.0, "solid", "throttle"))
_PROFILE_TITLES = ("altitude ─, terrain clearance ┄ (km)",
                   "speed (m/s): inertial ─, relative ┄",
                   "attitude (°): pitch ─, yaw ┄", "throttle")


def _col(table, name) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _table(inp: FigureInputs, phase: str, name: str, needs: tuple[str, ...]):
    """The series table ``<phase>.<name>`` when it has rows and every needed column, else None."""
    table = inp.series.get(f"{phase}.{name}")
    ok = table is not None and table.num_rows > 0 and set(needs) <= set(table.column_names)
    return table if ok else None


def _phases(table) -> np.ndarray:
    if "phase" in table.column_names:
        return _col(table, "phase").astype(str)
    return np.full(table.num_rows, "ascent")


def ascent_profile_figure(table, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Altitude/clearance, speeds, pitch/yaw and throttle against time, coloured by phase."""
    present = [p for p in _PROFILE if p[1] in table.column_names]
    phase_all = _phases(table)
    utc_all = _col(table, "utc").astype(str) if "utc" in table.column_names else None

    def build(budget: int) -> go.Figure:
        idx = F.decimate_indices(phase_all, max(2, budget // max(1, len(present))))
        t, ph = _col(table, "t_s").astype(float)[idx], phase_all[idx]
        fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                            subplot_titles=_PROFILE_TITLES)
        starts = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1]])
        ends = np.r_[starts[1:], len(ph)]
        shown = set()
        for s, e in zip(starts, ends):
            k = np.arange(s, min(e + 1, len(ph)))  # overlap one sample: no gap between phases
            name = str(ph[s])
            colour = _PHASE_COLOURS.get(name, "#555")
            for row, col, scale, dash, label in present:
                hover = None
                if col == "altitude_m" and utc_all is not None:
                    hover = utc_all[idx][k]
                fig.add_trace(go.Scatter(
                    x=t[k], y=_col(table, col).astype(float)[idx][k] * scale, mode="lines",
                    line={"color": colour, "width": 2 if dash == "solid" else 1.5, "dash": dash},
                    name=name, legendgroup=name, showlegend=name not in shown, hovertext=hover,
                    hovertemplate=f"{label}: %{{y:.4g}}<br>t = %{{x:.1f}} s"
                                  + ("<br>%{hovertext} UTC" if hover is not None else "")
                                  + f"<extra>{name}</extra>"), row=row, col=1)
                shown.add(name)
        fig.update_xaxes(title_text="time from ignition (s)", row=4, col=1)
        return F._styled(fig, 860)

    return F._fit(build, max_points)


def ascent_navigation_figure(table, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Position (m) and velocity (m/s) navigation error against time."""
    panels = [(c, lab) for c, lab in (("nav_error_m", "position error (m)"),
                                      ("nav_velocity_error_m_s", "velocity error (m/s)"))
              if c in table.column_names]
    idx = F.decimate_indices(_phases(table), max(2, max_points // max(1, len(panels))))
    t = _col(table, "t_s").astype(float)[idx]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[lab for _, lab in panels])
    for row, (col, lab) in enumerate(panels, 1):
        fig.add_trace(go.Scatter(x=t, y=_col(table, col).astype(float)[idx], mode="lines",
                                 name=lab, line={"width": 2}), row=row, col=1)
    fig.update_xaxes(title_text="time from ignition (s)", row=len(panels), col=1)
    return F._styled(fig, 260 + 200 * len(panels))


def launch_windows_figure(table, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Out-of-plane angle and plane-change Δv against UTC, the plane crossings marked."""
    crossing = _col(table, "crossing").astype(bool) if "crossing" in table.column_names \
        else np.zeros(table.num_rows, bool)
    idx = F.decimate_indices(crossing, max(2, (max_points - int(crossing.sum())) // 2))
    utc = _col(table, "utc").astype(str)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("out-of-plane angle of the target orbit (°)",
                                        "plane-change Δv (m/s)"))
    for row, col in ((1, "out_of_plane_deg"), (2, "plane_change_dv_m_s")):
        fig.add_trace(go.Scatter(x=utc[idx], y=_col(table, col).astype(float)[idx], mode="lines",
                                 name=col, showlegend=False, line={"color": "#1f5fa8"}),
                      row=row, col=1)
    k = np.flatnonzero(crossing)
    if len(k):
        fig.add_trace(go.Scatter(x=utc[k], y=_col(table, "out_of_plane_deg").astype(float)[k],
                                 mode="markers", name="plane crossing",
                                 marker={"symbol": "diamond", "size": 9, "color": "#c0392b"}),
                      row=1, col=1)
    fig.update_xaxes(title_text="UTC", row=2, col=1)
    return F._styled(fig, 560)


def _num(summary: dict, key: str, fmt: str) -> str | None:
    value = summary.get(key)
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return None


def ascent_caption(summary: dict) -> str:
    """The profile's caption: burn time, insertion orbit, on-board vs ground-loop guidance."""
    parts = [("Altitude and terrain clearance, inertial and surface-relative speed, pitch and "
             "yaw, and throttle against time from ignition, coloured by guidance phase.")]
    burn = _num(summary, "ascent.burn_time_s", ".1f")
    if burn:
        parts.append(f"Burn time {burn} s.")
    peri = _num(summary, "ascent.insertion_periapsis_km", ".1f")
    apo = _num(summary, "ascent.insertion_apoapsis_km", ".1f")
    if peri and apo:
        parts.append(f"Insertion orbit {peri} × {apo} km (periapsis × apoapsis altitude).")
    onb = [_num(summary, "ascent.onboard_failure_rate", ".1%"),
           _num(summary, "ascent.onboard_apoapsis_error_rms_km", ".2f")]
    gnd = [_num(summary, "ascent.ground_loop_failure_rate", ".1%"),
           _num(summary, "ascent.ground_loop_apoapsis_error_rms_km", ".2f")]
    if any(onb) or any(gnd):
        def say(v):
            return ", ".join(x for x in (v[0] and f"failure rate {v[0]}",
                                         v[1] and f"apoapsis error {v[1]} km RMS") if x) or "n/a"
        parts.append(f"On-board guidance: {say(onb)}; ground-loop guidance: {say(gnd)}.")
    return " ".join(parts)


def ascent_figures(inp: FigureInputs, phase: str) -> list:
    slug, out = phase.replace("_", "-"), []
    table = _table(inp, phase, "ascent", ("t_s", "altitude_m"))
    if table is not None:
        out.append((f"fig-ascent-profile-{slug}", "Lunar-ascent profile",
                    ascent_caption(inp.summary), ascent_profile_figure(table, inp.max_points)))
    if table is not None and {"nav_error_m", "nav_velocity_error_m_s"} & set(table.column_names):
        out.append((f"fig-ascent-navigation-{slug}", "Ascent navigation error",
                    ("On-board navigation error in position (m) and velocity (m/s) against "
                    "time from ignition."), ascent_navigation_figure(table, inp.max_points)))
    windows = _table(inp, phase, "launch_windows",
                     ("utc", "out_of_plane_deg", "plane_change_dv_m_s"))
    if windows is not None:
        out.append((f"fig-launch-windows-{slug}", "Ascent launch windows",
                    ("Angle between the orbit plane of the target and the launch site, and the "
                    "plane-change Δv a launch at that time would need; diamonds mark the plane "
                    "crossings."), launch_windows_figure(windows, inp.max_points)))
    return out


register_figures("lunar_ascent", ascent_figures)
