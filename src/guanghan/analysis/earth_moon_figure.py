"""The whole mission in the Earth–Moon system, in 3-D, with a time slider.

Two scenes side by side: Earth-centred J2000 (inertial), where the lunar phases ride along the
Moon's orbit, and the Earth–Moon rotating frame (x from the Earth to the Moon, z along the Moon's
orbital angular momentum; :func:`guanghan.analysis.return_figures.earth_moon_rotating`), where
the Moon stays near x ≈ 384,000 km and the return shows as one arc. The slider moves the vehicle
and the Moon in both scenes to a sample epoch; the play button animates them.

Assumptions and limitations
- Moon-centred rows are moved to the Earth's centre with DE440's geometric Moon (as in
  :mod:`~guanghan.analysis.return_figures`); at this scale a lunar orbit is a few pixels around
  the Moon: the per-body 3-D views and ground tracks show those.
- The track is decimated to a third of ``max_points`` samples per scene (phase ends kept; a lunar
  orbit is a few pixels at this scale anyway) and the slider to
  ``frames`` epochs evenly spaced in time (default 120), so the page stays small: each frame
  carries three points.
- Earth and Moon are markers, not to scale (their radii are below a pixel at this span).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.return_figures import earth_centred_positions, earth_moon_rotating
from guanghan.environment import ephemeris, time_scales

__all__ = ["earth_moon_figure", "FRAMES"]

FRAMES = 120            # slider steps
_EARTH, _MOON, _CRAFT = "#3a78c2", "#9ea3aa", "#ffd60a"
_MIN_MOON_SAMPLES = 200  # samples of the Moon's own path


def _ets(cols: F.TrackColumns, table) -> np.ndarray:
    if table is not None and "et_s" in table.column_names:
        return np.asarray(table.column("et_s").to_numpy(zero_copy_only=False), dtype=float)
    stamps = np.datetime_as_string(cols.time, unit="ms")
    return np.array([time_scales.utc_to_et(f"{s}Z") for s in stamps])


def _marker(x, y, z, name, colour, size, scene, symbol="circle", showlegend=True, text=None):
    return go.Scatter3d(x=x, y=y, z=z, mode="markers", name=name, legendgroup=name,
                        showlegend=showlegend, scene=scene, text=text,
                        marker=dict(size=size, color=colour, symbol=symbol,
                                    line=dict(width=0)),
                        hovertemplate=f"<b>{name}</b><br>%{{text}}<extra></extra>" if text is not None
                        else f"<b>{name}</b><extra></extra>")


def earth_moon_figure(cols: F.TrackColumns, table, colours: dict[str, str],
                      max_points: int = F.MAX_POINTS, frames: int = FRAMES) -> go.Figure | None:
    """The figure, or None when the trajectory has no Earth- or Moon-centred position."""
    ok = np.isfinite(cols.r_km).all(axis=1) & np.isin(cols.body.astype(str), ["EARTH", "MOON"])
    if not ok.any():
        return None
    ets_all = _ets(cols, table)
    keep = np.flatnonzero(ok)
    # the track is drawn in both scenes; a third of the budget each is ample at this scale
    budget = min(max_points // 3, (max_points - 2 * _MIN_MOON_SAMPLES - 6) // 2)
    idx = keep[F.decimate_indices(cols.phase[keep], max(2, budget))]
    ets = ets_all[idx]
    r_in = earth_centred_positions(cols.body[idx].astype(str), ets, cols.r_km[idx] * 1e3) / 1e3
    r_rot = earth_moon_rotating(ets, r_in * 1e3) / 1e3
    moon_ets = np.linspace(ets[0], ets[-1], _MIN_MOON_SAMPLES)
    moon_in = ephemeris.position("MOON", "EARTH", moon_ets) / 1e3
    moon_rot = earth_moon_rotating(moon_ets, moon_in * 1e3) / 1e3
    stamps = np.array([s.replace("T", " ") for s in np.datetime_as_string(cols.time[idx], unit="m")])

    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "scene"}]],
                        horizontal_spacing=0.02,
                        subplot_titles=("Earth-centred J2000 (inertial)",
                                        "Earth–Moon rotating frame"))
    for scene, r, moon in (("scene", r_in, moon_in), ("scene2", r_rot, moon_rot)):
        first = scene == "scene"
        for phase in dict.fromkeys(cols.phase[idx]):
            sel = cols.phase[idx] == phase
            fig.add_trace(go.Scatter3d(
                x=r[sel, 0].astype(np.float32), y=r[sel, 1].astype(np.float32),
                z=r[sel, 2].astype(np.float32), mode="lines", name=str(phase),
                legendgroup=str(phase), showlegend=first, scene=scene, text=stamps[sel],
                line=dict(color=colours.get(phase, "#555"), width=3),
                hovertemplate=f"<b>{phase}</b><br>%{{text}} UTC<extra></extra>"))
        fig.add_trace(go.Scatter3d(x=moon[:, 0].astype(np.float32), y=moon[:, 1].astype(np.float32),
                                   z=moon[:, 2].astype(np.float32), mode="lines",
                                   name="Moon's path", legendgroup="moonpath", showlegend=first,
                                   scene=scene, hoverinfo="skip",
                                   line=dict(color=_MOON, width=1, dash="dot")))
        fig.add_trace(_marker([0.0], [0.0], [0.0], "Earth", _EARTH, 8, scene, showlegend=first))
    moving = len(fig.data)                      # the slider's traces start here

    steps_et = np.linspace(ets[0], ets[-1], max(2, frames))
    at = np.clip(np.searchsorted(ets, steps_et), 0, len(ets) - 1)
    moon_at_in = ephemeris.position("MOON", "EARTH", steps_et) / 1e3
    moon_at_rot = earth_moon_rotating(steps_et, moon_at_in * 1e3) / 1e3

    def markers(k: int) -> list:
        j = at[k]
        label = [f"{stamps[j]} UTC · {cols.phase[idx][j]}"]
        return [_marker([r_in[j, 0]], [r_in[j, 1]], [r_in[j, 2]], "vehicle", _CRAFT, 5, "scene",
                        "diamond", True, label),
                _marker([moon_at_in[k, 0]], [moon_at_in[k, 1]], [moon_at_in[k, 2]], "Moon", _MOON,
                        6, "scene", showlegend=True),
                _marker([r_rot[j, 0]], [r_rot[j, 1]], [r_rot[j, 2]], "vehicle", _CRAFT, 5,
                        "scene2", "diamond", False, label),
                _marker([moon_at_rot[k, 0]], [moon_at_rot[k, 1]], [moon_at_rot[k, 2]], "Moon",
                        _MOON, 6, "scene2", showlegend=False)]

    for trace in markers(0):
        fig.add_trace(trace)
    names = [str(stamps[a]) for a in at]
    traces = list(range(moving, moving + 4))
    fig.frames = [go.Frame(data=markers(k), traces=traces, name=str(k)) for k in range(len(at))]
    slider = dict(active=0, x=0.08, len=0.9, y=0.0, pad=dict(t=10), ticklen=0,
                  font=dict(size=1, color="rgba(0,0,0,0)"),          # no label under each step
                  currentvalue=dict(prefix="vehicle at ", font=dict(size=12, color="#c9d1d9")),
                  steps=[dict(method="animate", label=names[k],
                              args=[[str(k)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                   transition=dict(duration=0))])
                         for k in range(len(at))])
    play = dict(type="buttons", showactive=False, x=0.0, y=0.0, xanchor="left", yanchor="top",
                direction="left", pad=dict(t=10), buttons=[
                    dict(label="▶", method="animate",
                         args=[None, dict(frame=dict(duration=80, redraw=True), fromcurrent=True,
                                          transition=dict(duration=0))]),
                    dict(label="❚❚", method="animate",
                         args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])
    axis = dict(showbackground=False, gridcolor="#2a313c", color="#8b949e", zeroline=False,
                nticks=5, tickfont=dict(size=9), title=dict(font=dict(size=10)))
    for scene, frame, r, moon in (("scene", "J2000", r_in, moon_in), ("scene2", "rot", r_rot, moon_rot)):
        every = np.vstack([r, moon, np.zeros((1, 3))])
        lo, hi = every.min(axis=0), every.max(axis=0)
        centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1.0)
        z_half = max(1.05 * float(hi[2] - lo[2]) / 2, half / 10)   # equal scales, z as thin as the data
        ranges = [[c - half, c + half] for c in centre[:2]] + [[centre[2] - z_half, centre[2] + z_half]]
        fig.update_layout({scene: dict(
            aspectmode="manual", aspectratio=dict(x=1, y=1, z=z_half / half), bgcolor="#0d1117",
            xaxis=dict(axis, title=f"x {frame} (km)", range=ranges[0]),
            yaxis=dict(axis, title=f"y {frame} (km)", range=ranges[1]),
            zaxis=dict(axis, title=f"z {frame} (km)", range=ranges[2]),
            camera=dict(eye=dict(x=0.0, y=-1.0, z=1.1)))})
    fig = F._styled(fig, 660)
    fig.update_layout(sliders=[slider], updatemenus=[play], paper_bgcolor="#0d1117",
                      font_color="#c9d1d9", margin=dict(l=0, r=0, t=70, b=10),
                      legend=dict(font=dict(color="#c9d1d9"), y=1.08))
    return fig
