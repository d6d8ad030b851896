"""Figures of the Earth–Moon transfer leg: the transfer in the Earth–Moon rotating frame, the
B-plane with the target and the achieved points, and the Δv budget of the leg.

Each builder takes the run's plain outputs (the trajectory table with the schema of
``mission.trajectory_table``, event dicts, the summary dict, the leg's ``b_plane`` series) and
returns a ``plotly.graph_objects.Figure`` in the house style of :mod:`guanghan.analysis.figures`.

Assumptions and limitations
- Rotating frame: the axes of :func:`guanghan.analysis.return_figures.earth_moon_rotating` (x̂ along
  the Earth→Moon vector of DE440 at each sample's epoch, ẑ along the Moon's orbital angular
  momentum), Moon-centred rows moved to the Earth's centre with the Moon's geometric position
  (:func:`~guanghan.analysis.return_figures.earth_centred_positions`; both read the DE440 kernels
  through ``environment.ephemeris``, i.e. ``spice_kernels.body_positions``/``body_states``). The
  right panel is the same frame moved to the Moon's centre.
- Event markers are placed by linear interpolation between the neighbouring samples (300 s apart
  away from the Moon, 60 s near it: well under a disc's width at either panel's scale).
- B-plane points: T in the lunar equator at the aimed periselene epoch, R completing (S, T, R);
  "before MCC-k" and "after MCC-k (planned)" are predictions from the flown state at the
  correction epoch (coasting, and with the planned burn), the flown arrival the osculating state
  at the periselene (Vallado 2013, §6.4; :mod:`guanghan.gnc.lunar_transfer_design`). The aim is
  the point giving the periselene altitude and inclination asked for; it moves with v∞ (|B| and
  the B-plane angle depend on it), so it is drawn for the designed v∞ and for the flown one, and
  the flown arrival's miss is measured from the latter.
- Δv: the midcourse corrections' solved Δv (``transfer.mcc<k>_delta_v_m_s``); each LOI burn's Δv
  from its mass drop (Isp g0 ln m0/m1), split into the impulsive equivalent at the periselene and
  the finite-burn gravity loss (``<phase>.loi<k>_*``).

References
- Szebehely, V. (1967), Theory of Orbits, ch. 1 (synodic axes).
- Vallado, D. A. (2013), Fundamentals of Astrodynamics and Applications, 4th ed., §6.4 (B-plane).
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis import return_figures as RF
from guanghan.analysis.basemaps import MEAN_RADIUS_KM
from guanghan.analysis.legs import FigureInputs, register_figures
from guanghan.environment import ephemeris, time_scales

_PATH, _EVENT, _AIM = "#1f77b4", "#d62728", "#111827"
_MARKED = re.compile(r"^(injection|mcc\d+|soi_entry|loi\d+_start)$")
_NEAR_MOON_KM = 20_000.0          # half-width of the right panel, km around the Moon's centre


def _label(kind: str) -> str:
    match = re.match(r"^(mcc|loi)(\d+)(?:_start)?$", kind)
    if match:
        return f"{match.group(1).upper()}-{match.group(2)}"
    return {"soi_entry": "SOI entry"}.get(kind, kind.replace("_", " "))


def _track(trajectory, phase: str):
    """(ET s, UTC text, Earth-centred J2000 positions m) of the rows of ``phase``, in time order."""
    names = np.asarray(trajectory.column("phase").to_pylist(), dtype=object).astype(str)
    keep = names == phase
    ets = np.asarray(trajectory.column("et_s").to_numpy(zero_copy_only=False), float)[keep]
    r = np.column_stack([np.asarray(trajectory.column(c).to_numpy(zero_copy_only=False), float)[keep]
                         for c in ("x_m", "y_m", "z_m")])
    body = np.asarray(trajectory.column("body").to_pylist(), dtype=object)[keep].astype(str)
    utc = np.asarray(trajectory.column("utc").to_pylist(), dtype=object)[keep]
    order = np.argsort(ets, kind="stable")
    if not len(ets):
        return ets, utc, r
    return ets[order], utc[order], RF.earth_centred_positions(body[order], ets[order], r[order])


def _marks(events: list[dict], phase: str, ets, r) -> list:
    """(label, event, rotating-frame position km) of the injection, MCCs, SOI entry, LOI starts."""
    out = []
    for ev in events or []:
        kind = str(ev.get("event", ""))
        if str(ev.get("phase")) != phase or not _MARKED.match(kind):
            continue
        et = time_scales.utc_to_et(str(ev["utc"]))
        if len(ets) and ets[0] - 1.0 <= et <= ets[-1] + 1.0:
            p = np.array([np.interp(et, ets, r[:, k]) for k in range(3)])
            out.append((_label(kind), ev, RF.earth_moon_rotating([et], p[None, :])[0] / 1e3))
    return sorted(out, key=lambda m: str(m[1].get("utc", "")))


def _disc(name: str, centre, radius_km: float, colour: str, legend: bool) -> go.Scatter:
    a = np.linspace(0.0, 2 * np.pi, 73)
    return go.Scatter(x=centre[0] + radius_km * np.cos(a), y=centre[1] + radius_km * np.sin(a),
                      mode="lines", fill="toself", fillcolor=colour, line=dict(color=colour, width=1),
                      name=f"{name} (to scale)", legendgroup=name, showlegend=legend,
                      hovertemplate=f"<b>{name}</b>, radius {radius_km:,.1f} km<extra></extra>")


def transfer_rotating_figure(trajectory, events: list[dict], phase: str,
                             max_points: int = F.MAX_POINTS) -> go.Figure:
    """Plan view (x–y, km) of the transfer in the Earth–Moon rotating frame (left) and the same
    frame centred on the Moon, ±20,000 km (right): path, Earth and Moon to scale, event markers."""
    ets, utc, r = _track(trajectory, phase)
    rot = RF.earth_moon_rotating(ets, r) / 1e3 if len(ets) else np.zeros((0, 3))
    moon_x = (np.linalg.norm(ephemeris.position("MOON", "EARTH", ets), axis=1) / 1e3
              if len(ets) else np.zeros(0))
    marks = _marks(events, phase, ets, r)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.58, 0.42], horizontal_spacing=0.08,
                        subplot_titles=("Earth–Moon rotating frame (x toward the Moon)",
                                        "near the Moon (same axes, Moon-centred)"))
    if not len(ets):
        return F._styled(fig, 480)
    near = rot - np.column_stack([moon_x, np.zeros((len(ets), 2))])
    close = np.max(np.abs(near[:, :2]), axis=1) <= _NEAR_MOON_KM
    idx = F.decimate_indices(np.zeros(len(ets)), max(2, (2 * max_points) // 3))
    idx_near = np.flatnonzero(close)
    idx_near = idx_near[F.decimate_indices(np.zeros(len(idx_near)), max(2, max_points // 3))]
    colours = {"Earth": RF._BODY_COLOURS["EARTH"], "Moon": RF._BODY_COLOURS["MOON"]}
    fig.add_trace(_disc("Earth", (0.0, 0.0), MEAN_RADIUS_KM["EARTH"], colours["Earth"], True), 1, 1)
    fig.add_trace(_disc("Moon", (moon_x[-1], 0.0), MEAN_RADIUS_KM["MOON"], colours["Moon"], True), 1, 1)
    fig.add_trace(_disc("Moon", (0.0, 0.0), MEAN_RADIUS_KM["MOON"], colours["Moon"], False), 1, 2)
    for col, pts, sel in ((1, rot, idx), (2, near, idx_near)):
        fig.add_trace(go.Scatter(x=pts[sel, 0].astype(np.float32), y=pts[sel, 1].astype(np.float32),
                                 mode="lines", name="transfer", legendgroup="transfer",
                                 showlegend=col == 1, line=dict(color=_PATH, width=2),
                                 text=utc[sel], hovertemplate="<b>transfer</b><br>%{text}<br>x %{x:,.0f} "
                                 "km, y %{y:,.0f} km<extra></extra>"), 1, col)
    for col in (1, 2):
        shown = marks if col == 1 else [
            (lab, ev, p - [np.interp(time_scales.utc_to_et(str(ev["utc"])), ets, moon_x), 0.0, 0.0])
            for lab, ev, p in marks]
        if col == 2:
            shown = [m for m in shown if np.max(np.abs(m[2][:2])) <= _NEAR_MOON_KM]
        if shown:
            fig.add_trace(go.Scatter(
                x=[p[0] for *_, p in shown], y=[p[1] for *_, p in shown], mode="markers+text",
                name="events", legendgroup="events", showlegend=col == 1,
                text=[lab for lab, *_ in shown],
                textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(shown))],
                marker=dict(symbol="diamond", size=9, color=_EVENT),
                customdata=[f"{ev.get('utc', '')} UTC<br>{F.format_details(ev.get('details'))}"
                            for _, ev, _ in shown],
                hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>"), 1, col)
    fig.update_xaxes(title_text="x, Earth → Moon (km)", row=1, col=1)
    fig.update_xaxes(title_text="x from the Moon (km)", range=[-_NEAR_MOON_KM, _NEAR_MOON_KM], row=1, col=2)
    fig.update_yaxes(title_text="y (km)", scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_yaxes(title_text="y from the Moon (km)", scaleanchor="x2", scaleratio=1,
                     range=[-_NEAR_MOON_KM, _NEAR_MOON_KM], row=1, col=2)
    return F._styled(fig, 520)


# --------------------------------------------------------------------------- B-plane

_POINT_STYLE = {"aim": ("x-thin", 14, _AIM), "aim at the flown v∞": ("x-thin", 14, "#6b7280"),
                "injection design": ("circle-open", 11, "#2ca02c"),
                "arrival (flown)": ("star", 13, "#d62728")}


def _b_points(table) -> list[dict]:
    return table.to_pylist() if table is not None and table.num_rows else []


def b_plane_figure(b_plane, summary: dict | None = None) -> go.Figure:
    """(B·T, B·R) in km: every point (left) and the neighbourhood of the aim (right, ±5 km or
    enough for the points after the last correction); the midcourse predictions joined in order."""
    rows = _b_points(b_plane)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("all points", "around the aim"))
    if not rows:
        fig.add_annotation(text="no B-plane points recorded", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False)
        return F._styled(fig, 420)
    aim = next((p for p in rows if p["point"] == "aim"), rows[0])
    flown_aim = next((p for p in rows if p["point"] == "aim at the flown v∞"), aim)
    path = [p for p in rows if not p["point"].startswith("aim")]
    settled = [p for p in rows if not p["point"].startswith("before")]
    half = max(5.0, 1.2 * max(max(abs(p["b_dot_t_km"] - aim["b_dot_t_km"]),
                                  abs(p["b_dot_r_km"] - aim["b_dot_r_km"])) for p in settled))
    for col in (1, 2):
        fig.add_trace(go.Scatter(x=[p["b_dot_t_km"] for p in path], y=[p["b_dot_r_km"] for p in path],
                                 mode="lines", line=dict(color="#9aa5b1", width=1, dash="dot"),
                                 name="sequence", legendgroup="sequence", showlegend=col == 1,
                                 hoverinfo="skip"), 1, col)
        for p in rows:
            symbol, size, colour = _POINT_STYLE.get(p["point"], (
                "circle" if p["point"].startswith("before") else "triangle-up", 10,
                "#ff7f0e" if p["point"].startswith("before") else "#1f77b4"))
            fig.add_trace(go.Scatter(
                x=[p["b_dot_t_km"]], y=[p["b_dot_r_km"]], mode="markers", name=p["point"],
                legendgroup=p["point"], showlegend=col == 1,
                marker=dict(symbol=symbol, size=size, color=colour, line=dict(width=1.5, color=colour)),
                hovertemplate=(f"<b>{p['point']}</b><br>predicted from {p['utc']} UTC<br>B·T %{{x:,.3f}} "
                               "km<br>B·R %{y:,.3f} km<extra></extra>")), 1, col)
    fig.update_xaxes(title_text="B·T (km)")
    fig.update_yaxes(title_text="B·R (km)", row=1, col=1)
    fig.update_xaxes(range=[aim["b_dot_t_km"] - half, aim["b_dot_t_km"] + half], row=1, col=2)
    fig.update_yaxes(range=[aim["b_dot_r_km"] - half, aim["b_dot_r_km"] + half], scaleanchor="x2",
                     scaleratio=1, row=1, col=2)
    s = summary or {}
    if "transfer.b_dot_t_km" in s:
        miss = float(np.hypot(s["transfer.b_dot_t_km"] - flown_aim["b_dot_t_km"],
                              s["transfer.b_dot_r_km"] - flown_aim["b_dot_r_km"]))
        fig.add_annotation(text=f"flown arrival {miss:,.2f} km from the aim at its v∞; the aims for "
                           f"the designed and the flown v∞ {_gap(aim, flown_aim):,.2f} km apart",
                           xref="paper", yref="paper",
                           x=0.0, y=-0.3, showarrow=False, xanchor="left", font=dict(size=12))
    fig = F._styled(fig, 500)
    fig.update_layout(margin=dict(l=70, r=20, t=110, b=100), legend=dict(orientation="h", y=1.3))
    return fig


def _gap(p: dict, q: dict) -> float:
    return float(np.hypot(p["b_dot_t_km"] - q["b_dot_t_km"], p["b_dot_r_km"] - q["b_dot_r_km"]))


# --------------------------------------------------------------------------- Δv budget


def _numbered(summary: dict, pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted(int(m.group(1)) for k in summary if (m := rx.match(k)))


def delta_v_budget_figure(summary: dict, phase: str) -> go.Figure:
    """Horizontal stacked bars (m/s): each MCC, and each LOI burn as its impulsive equivalent plus
    the finite-burn gravity loss; the totals and the LOI propellant in a note."""
    s = summary or {}
    labels, base, loss = [], [], []
    for k in _numbered(s, r"^transfer\.mcc(\d+)_delta_v_m_s$"):
        labels.append(f"MCC-{k}")
        base.append(float(s[f"transfer.mcc{k}_delta_v_m_s"]))
        loss.append(0.0)
    for k in _numbered(s, rf"^{re.escape(phase)}\.loi(\d+)_delta_v_m_s$"):
        total = float(s[f"{phase}.loi{k}_delta_v_m_s"])
        g = float(s.get(f"{phase}.loi{k}_gravity_loss_m_s", 0.0))
        labels.append(f"LOI-{k}")
        base.append(total - g)
        loss.append(g)
    totals = [b + g for b, g in zip(base, loss, strict=True)]
    fig = go.Figure([
        go.Bar(x=base, y=labels, orientation="h", name="impulsive equivalent (MCC: solved Δv)",
               marker_color="#1f77b4", hovertemplate="<b>%{y}</b><br>%{x:,.2f} m/s<extra></extra>"),
        go.Bar(x=loss, y=labels, orientation="h", name="finite-burn gravity loss", marker_color="#ff7f0e",
               text=[f"{t:,.1f} m/s" if t >= 1.0 else f"{t:.3f} m/s" for t in totals],
               textposition="outside", cliponaxis=False,
               hovertemplate="<b>%{y}</b> gravity loss<br>%{x:,.2f} m/s<extra></extra>")])
    mcc = sum(t for lab, t in zip(labels, totals, strict=True) if lab.startswith("MCC"))
    note = (f"midcourse {mcc:,.1f} m/s · LOI {float(s.get('loi.delta_v_m_s', 0.0)):,.1f} m/s, "
            f"{float(s.get('loi.propellant_kg', 0.0)):,.0f} kg of propellant" if labels
            else "no burns recorded for the transfer")
    fig.add_annotation(text=note, xref="paper", yref="paper", x=0.0, y=-0.3, showarrow=False,
                       xanchor="left", yanchor="top", font=dict(size=12))
    fig.update_layout(barmode="stack", legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(title_text="Δv (m/s)", range=[0.0, 1.2 * max(max(totals, default=1.0), 1e-3)])
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)))
    fig = F._styled(fig, 200 + 42 * max(len(labels), 1))
    fig.update_layout(margin=dict(l=80, r=40, t=50, b=100))
    return fig


def earth_moon_transfer_figures(inp: FigureInputs, phase: str) -> list:
    slug = phase.replace("_", "-")
    if not any(e.get("phase") == phase for e in inp.events):
        return []
    return [
        (f"fig-transfer-rotating-{slug}", "Earth–Moon transfer",
         "The transfer from the injection to the end of lunar orbit insertion in the Earth–Moon "
         "rotating frame (x from the Earth to the Moon, z along the Moon's orbital angular momentum; "
         "plan view), the Moon where it is at the end of the leg; right, the same axes around the "
         "Moon: the approach and the capture orbit. Diamonds: injection, midcourse corrections, "
         "sphere-of-influence entry, LOI ignitions.",
         transfer_rotating_figure(inp.trajectory, inp.events, phase, inp.max_points)),
        (f"fig-transfer-b-plane-{slug}", "B-plane at the Moon",
         "B·T (T in the lunar equator) and B·R of the incoming asymptote: the aim (the periselene "
         "altitude and inclination asked for, for the designed and for the flown v∞), the injection "
         "as designed, the arrival predicted "
         "from the flown state before and after (as planned) each midcourse correction, and the "
         "flown arrival.", b_plane_figure(inp.series.get(f"{phase}.b_plane"), inp.summary)),
        (f"fig-transfer-dv-{slug}", "Δv budget of the transfer",
         "Midcourse corrections (solved Δv) and LOI burns (Δv from the propellant used, split into "
         "the impulsive equivalent at the periselene and the finite-burn gravity loss).",
         delta_v_budget_figure(inp.summary, phase)),
    ]


register_figures("earth_moon_transfer", earth_moon_transfer_figures)
