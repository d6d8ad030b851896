"""Plotly figures of a mission run: event timeline, altitude, ground tracks and 3-D orbits.

One builder per figure, each taking plain arrays (a :class:`TrackColumns`) or event dicts and
returning a ``plotly.graph_objects.Figure``. The report module assembles them into one page.

Assumptions and limitations
- Every figure plots at most ``max_points`` (default :data:`MAX_POINTS`, 5000) data points in
  total over its scatter traces; long trajectories are decimated by a uniform stride that keeps
  the first and last sample of every phase (:func:`decimate_indices`). Extrema between kept
  samples may be lost; the report caption says so.
- ``sunlit`` is the visible fraction of the Sun's disc; below 0.5 a sample is drawn as "in shadow"
  (dotted), and 0 counts as umbra for the shaded bands of the altitude plot.
- Longitudes are east-positive in (-180, 180]; a jump of more than 180° between consecutive
  plotted samples is taken as an antimeridian crossing and the line is broken there.
- When ``utc`` is missing, times come from ``et_s`` with a fixed UTC = TDB - 69.184 s (leap
  seconds of 2017 onward, TDB-TT periodic terms of < 2 ms ignored); earlier epochs are off by
  the leap seconds since.

References
- IERS Conventions (2010), Technical Note 36, ch. 10: TT = TAI + 32.184 s; TAI - UTC = 37 s
  since 2017-01-01 (IERS Bulletin C 52).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis.basemaps import MEAN_RADIUS_KM, basemap

__all__ = ["MAX_POINTS", "TrackColumns", "track_columns", "decimate_indices", "phase_colours",
           "plotted_points", "phase_spans", "timeline_figure", "altitude_figure", "ground_track_figure",
           "orbit3d_figure"]

MAX_POINTS = 5000
SHADOW_THRESHOLD = 0.5  # fraction of the solar disc below which a sample is "in shadow"
_PALETTE = ("#ff7f0e", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#e377c2",
            "#bcbd22", "#8c564b", "#7f7f7f")
_J2000_UTC = np.datetime64("2000-01-01T12:00:00.000", "ms")
_TDB_MINUS_UTC_S = 69.184  # 32.184 s (TT-TAI) + 37 s (TAI-UTC, 2017-) (IERS TN 36 ch. 10)
_FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
_TEMPLATE = go.layout.Template(layout=dict(
    font=dict(family=_FONT, size=13, color="#1d2733"), paper_bgcolor="white",
    plot_bgcolor="white", colorway=list(_PALETTE), hovermode="closest",
    margin=dict(l=60, r=20, t=30, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0.0),
    xaxis=dict(gridcolor="#e6e9ef", zeroline=False, linecolor="#9aa5b1", ticks="outside",
               automargin=True),
    yaxis=dict(gridcolor="#e6e9ef", zeroline=False, linecolor="#9aa5b1", ticks="outside",
               automargin=True)))


@dataclass(frozen=True)
class TrackColumns:
    """Trajectory columns as numpy arrays; missing columns are filled with NaN or defaults."""

    time: np.ndarray  # datetime64[ms], UTC
    phase: np.ndarray  # str
    body: np.ndarray  # str, central body
    r_km: np.ndarray  # (n, 3) body-centred J2000 position (km)
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_km: np.ndarray
    sunlit: np.ndarray  # 0..1 fraction of the solar disc visible, NaN when unknown
    mass_kg: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    def subset(self, keep: np.ndarray) -> TrackColumns:
        """The rows selected by ``keep`` (a boolean mask or indices)."""
        return TrackColumns(*(getattr(self, f.name)[keep] for f in fields(self)))


def track_columns(table) -> TrackColumns:
    """Numpy columns of a trajectory ``pyarrow.Table`` (or None), tolerant of missing columns."""
    names = set(table.column_names) if table is not None else set()
    n = table.num_rows if table is not None else 0

    def floats(name):
        if name not in names:
            return np.full(n, np.nan)
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)

    def strings(name, default):
        if name not in names:
            return np.full(n, default, dtype=object)
        return np.asarray(table.column(name).to_pylist(), dtype=object)

    r_km = np.column_stack([floats(c) for c in ("x_m", "y_m", "z_m")]) / 1e3 if n else np.zeros((0, 3))
    return TrackColumns(_times(table, names, n), strings("phase", "run"),
                        np.char.upper(strings("body", "MOON").astype(str)).astype(object), r_km,
                        floats("lat_deg"), floats("lon_deg"), floats("altitude_km"),
                        floats("sunlit"), floats("mass_kg"))


def _times(table, names, n) -> np.ndarray:
    if "utc" in names:
        text = [str(t).strip().rstrip("Z").replace(" UTC", "") for t in table.column("utc").to_pylist()]
        try:
            return np.array(text, dtype="datetime64[ms]")
        except ValueError:
            pass
    if "et_s" in names:
        et_s = np.asarray(table.column("et_s").to_numpy(zero_copy_only=False), dtype=np.float64)
        return _J2000_UTC + np.round((et_s - _TDB_MINUS_UTC_S) * 1e3).astype("timedelta64[ms]")
    return _J2000_UTC + np.arange(n).astype("timedelta64[s]")


def parse_utc(text: str) -> np.datetime64 | None:
    """An ISO-8601 UTC string as datetime64[ms], or None when it does not parse."""
    try:
        return np.datetime64(str(text).strip().rstrip("Z").replace(" UTC", ""), "ms")
    except ValueError:
        return None


def decimate_indices(phase: np.ndarray, max_points: int) -> np.ndarray:
    """Sorted indices of at most ``max_points`` samples: a uniform stride plus each phase's ends."""
    n = len(phase)
    if n <= max_points:
        return np.arange(n)
    change = np.flatnonzero(phase[1:] != phase[:-1])
    ends = np.unique(np.concatenate([[0, n - 1], change, change + 1]))
    if len(ends) >= max_points:  # more phase boundaries than points: keep a stride of them
        return ends[np.linspace(0, len(ends) - 1, max_points).astype(int)]
    budget = max_points - len(ends)
    while True:
        stride = int(np.ceil(n / budget))
        keep = np.union1d(np.arange(0, n, stride), ends)
        if len(keep) <= max_points:
            return keep
        budget -= len(keep) - max_points


def phase_colours(phases) -> dict[str, str]:
    """A stable colour per phase name, in order of first appearance."""
    ordered = list(dict.fromkeys(str(p) for p in phases))
    return {p: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(ordered)}


def plotted_points(fig: go.Figure) -> int:
    """Number of data points in the figure's scatter traces (the decimation budget's measure)."""
    total = 0
    for trace in fig.data:
        if trace.type in ("scatter", "scattergl", "scatter3d") and trace.x is not None:
            total += len(trace.x)
    return total


def _styled(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(template=_TEMPLATE, height=height)
    return fig


def _hover_text(cols: TrackColumns, idx: np.ndarray) -> np.ndarray:
    stamps = np.datetime_as_string(cols.time[idx], unit="s")
    alt = cols.altitude_km[idx]
    return np.array([f"{s.replace('T', ' ')} UTC · {a:,.1f} km" for s, a in zip(stamps, alt)],
                    dtype=object)


def _fit(builder, max_points: int) -> go.Figure:
    """Build with a shrinking trajectory budget until the figure holds ≤ max_points points."""
    budget = max_points
    while True:
        fig = builder(max(budget, 2))
        excess = plotted_points(fig) - max_points
        if excess <= 0 or budget <= 2:
            return fig
        budget -= max(excess, budget // 10)


# --------------------------------------------------------------------------- event timeline

def phase_spans(events: list[dict], cols: TrackColumns) -> list[tuple]:
    """(phase, start, end) from phase_start/phase_end events, else from the trajectory."""
    starts, ends = {}, {}
    for ev in events:
        t = parse_utc(ev.get("utc", ""))
        if t is None:
            continue
        if ev.get("event") == "phase_start":
            starts.setdefault(str(ev.get("phase")), t)
        elif ev.get("event") == "phase_end":
            ends[str(ev.get("phase"))] = t
    for p in dict.fromkeys(cols.phase):
        times = cols.time[cols.phase == p]
        starts.setdefault(str(p), times.min())
        ends.setdefault(str(p), times.max())
    return [(p, t0, ends.get(p, t0)) for p, t0 in sorted(starts.items(), key=lambda kv: kv[1])]


def format_details(details) -> str:
    """Event details as ``key: value`` lines for hover labels and tables."""
    if not isinstance(details, dict) or not details:
        return ""
    return "<br>".join(f"{k}: {_short(v)}" for k, v in details.items())


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def timeline_figure(events: list[dict], cols: TrackColumns, colours: dict[str, str]) -> go.Figure:
    """Phases as bars on the top row, then one row of markers per event kind (hover: details)."""
    fig = go.Figure()
    for phase, t0, t1 in phase_spans(events, cols):
        fig.add_trace(go.Scatter(
            x=[t0, t1], y=["phases", "phases"], mode="lines", name=phase, legendgroup=phase,
            line=dict(color=colours.get(phase, "#555"), width=14),
            hovertemplate=f"<b>{phase}</b><br>{t0} → {t1} UTC<extra></extra>"))
    kinds = list(dict.fromkeys(str(e.get("event")) for e in events
                               if e.get("event") not in ("phase_start", "phase_end")))
    for kind in kinds:
        rows = [e for e in events if str(e.get("event")) == kind and parse_utc(e.get("utc", ""))]
        bad = "fail" in kind or "abort" in kind
        fig.add_trace(go.Scatter(
            x=[parse_utc(e["utc"]) for e in rows], y=[kind] * len(rows), mode="markers",
            name=kind, showlegend=False,
            marker=dict(size=11 if bad else 8, symbol="x" if bad else "diamond",
                        color=["#d62728" if bad else colours.get(str(e.get("phase")), "#555")
                               for e in rows], line=dict(width=0.5, color="#1d2733")),
            text=[f"<b>{kind}</b> ({e.get('phase')})<br>{e['utc']} UTC<br>"
                  f"{format_details(e.get('details'))}" for e in rows],
            hovertemplate="%{text}<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(["phases"] + kinds)),
                     showgrid=True)
    fig.update_xaxes(title_text="UTC")
    return _styled(fig, 140 + 34 * (len(kinds) + 1))


# --------------------------------------------------------------------------- altitude

def _shadow_bands(cols: TrackColumns, limit: int = 400, yref: str = "paper") -> list[dict]:
    """Vertical shaded bands for umbra (sunlit = 0) and penumbra (0 < sunlit < 1) intervals."""
    shapes = []
    for lo, hi, colour in ((0.0, 1e-9, "rgba(30,40,60,0.18)"),
                           (1e-9, 1.0 - 1e-9, "rgba(30,40,60,0.07)")):
        inside = (cols.sunlit >= lo) & (cols.sunlit < hi) if lo > 0 else cols.sunlit <= hi
        edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
        for a, b in zip(edges[0::2], edges[1::2], strict=True):
            shapes.append(dict(type="rect", xref="x", yref=yref, x0=cols.time[a],
                               x1=cols.time[b - 1], y0=0, y1=1, fillcolor=colour, line_width=0,
                               layer="below"))
    return shapes[:limit]


def _with_breaks(idx: np.ndarray, pos: np.ndarray, time: np.ndarray, value: np.ndarray):
    """(time, value) at the rows ``idx[pos]`` with a NaN value wherever ``pos`` jumps (plotted rows
    of another body or phase in between), so one trace draws no line across the gap."""
    cut = np.flatnonzero(np.diff(pos) > 1) + 1
    rows = idx[pos]
    t = np.insert(time[rows], cut, time[rows][np.maximum(cut - 1, 0)])
    v = np.insert(value[rows].astype(np.float32), cut, np.nan)
    return t, v


def altitude_axis_is_log(alt_km: np.ndarray) -> bool:
    """A log axis when the positive altitudes span more than three decades."""
    pos = alt_km[np.isfinite(alt_km) & (alt_km > 0)]
    return pos.size > 0 and pos.max() / pos.min() > 1000.0


def altitude_figure(cols: TrackColumns, colours: dict[str, str],
                    max_points: int = MAX_POINTS) -> go.Figure:
    """Altitude against UTC, one panel per central body (its own axis: the altitude over the Moon
    and over the Earth never share a line), one line per phase, shadow bands shaded. A panel whose
    altitudes span more than three decades is logarithmic; samples at or below the body's mean
    sphere (a surface stay) then drop out of that panel."""
    idx = decimate_indices(cols.phase, max_points)
    bodies = list(dict.fromkeys(cols.body[idx]))
    fig = make_subplots(rows=len(bodies), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"altitude over the {str(b).capitalize()} (km)"
                                        for b in bodies])
    shown = set()
    for row, body in enumerate(bodies, 1):
        on = cols.body[idx] == body
        for phase in dict.fromkeys(cols.phase[idx][on]):
            pos = np.flatnonzero(on & (cols.phase[idx] == phase))
            x, y = _with_breaks(idx, pos, cols.time, cols.altitude_km)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=str(phase), legendgroup=str(phase),
                showlegend=phase not in shown, line=dict(color=colours.get(phase), width=2),
                hovertemplate=f"<b>{phase}</b><br>%{{x}} UTC<br>%{{y:,.2f}} km above the {body}"
                              "<extra></extra>"), row=row, col=1)
            shown.add(phase)
        log = altitude_axis_is_log(cols.altitude_km[cols.body == body])
        fig.update_yaxes(title_text="km", type="log" if log else "linear", row=row, col=1)
    fig.update_layout(shapes=_shadow_bands(cols))
    fig.update_xaxes(title_text="UTC", row=len(bodies), col=1)
    return _styled(fig, 120 + 260 * len(bodies))


# --------------------------------------------------------------------------- ground track

def _break_lines(x: np.ndarray, y: np.ndarray, keep: np.ndarray, text: np.ndarray):
    """x, y, text with masked runs collapsed to one NaN break and antimeridian jumps broken."""
    x = np.where(keep, x, np.nan)
    jump = np.zeros(len(x), dtype=bool)
    jump[1:] = np.abs(np.diff(x)) > 180.0
    xs, ys, ts = [], [], []
    previous_break = True
    for xi, yi, ti, j in zip(x, y, text, jump):
        if j and not previous_break:
            xs.append(np.nan), ys.append(np.nan), ts.append("")
        if np.isnan(xi):
            if not previous_break:
                xs.append(np.nan), ys.append(np.nan), ts.append("")
            previous_break = True
            continue
        xs.append(xi), ys.append(yi), ts.append(ti)
        previous_break = False
    return np.array(xs, np.float32), np.array(ys, np.float32), np.array(ts, dtype=object)


def _track_traces(cols: TrackColumns, idx: np.ndarray, colours: dict[str, str]) -> list:
    traces = []
    text = _hover_text(cols, idx)
    for phase in dict.fromkeys(cols.phase[idx]):
        in_phase = cols.phase[idx] == phase
        sel, tx = idx[in_phase], text[in_phase]
        lon, lat, sun = cols.lon_deg[sel], cols.lat_deg[sel], cols.sunlit[sel]
        dark = sun < SHADOW_THRESHOLD  # NaN (unknown) counts as lit
        lit = ~dark
        lit[1:] |= lit[:-1]  # carry each lit run one sample into the shadow: no gaps
        for mask, dash, show in ((lit, "solid", True), (dark, "dot", False)):
            if not mask.any():
                continue
            x, y, t = _break_lines(lon, lat, mask, tx)
            traces.append(go.Scatter(
                x=x, y=y, text=t, mode="lines", name=str(phase), legendgroup=str(phase),
                showlegend=show, line=dict(color=colours.get(phase), width=2.5, dash=dash),
                hovertemplate=f"<b>{phase}</b>{' (shadow)' if dash == 'dot' else ''}<br>%{{text}}"
                              "<br>lat %{y:.2f}°, lon %{x:.2f}°<extra></extra>"))
    return traces


def ground_track_figure(cols: TrackColumns, body: str, sites: list[dict],
                        colours: dict[str, str], max_points: int = MAX_POINTS) -> go.Figure:
    """Sub-satellite track over the body's map; dotted where in shadow; sites as stars."""
    on_body = np.flatnonzero(cols.body == body)
    body_sites = [s for s in sites if str(s.get("body", body)).upper() == body]

    def build(budget: int) -> go.Figure:
        idx = on_body[decimate_indices(cols.phase[on_body], budget)]
        fig = go.Figure(_track_traces(cols, idx, colours))
        if np.any(cols.sunlit[on_body] < SHADOW_THRESHOLD):
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="in shadow (dotted)",
                                     line=dict(color="#1d2733", dash="dot", width=2.5)))
        if body_sites:
            fig.add_trace(go.Scatter(
                x=[s["lon_deg"] for s in body_sites], y=[s["lat_deg"] for s in body_sites],
                mode="markers+text", name="sites", text=[s.get("name", "") for s in body_sites],
                textposition="top center", textfont=dict(color="white", size=13),
                marker=dict(symbol="star", size=16, color="#ffd60a", line=dict(width=1, color="black")),
                hovertemplate="<b>%{text}</b><br>lat %{y:.3f}°, lon %{x:.3f}°<extra></extra>"))
        return fig

    fig = _fit(build, max_points)
    picture = basemap(body)
    if picture is not None:
        fig.add_layout_image(picture.layout_image())
    fig.update_xaxes(range=[-180, 180], dtick=30, title_text="longitude (° E)", showgrid=False,
                     constrain="domain")
    fig.update_yaxes(range=[-90, 90], dtick=30, title_text="latitude (°)", showgrid=False,
                     scaleanchor="x", scaleratio=1, constrain="domain")
    fig = _styled(fig, 640)
    fig.update_layout(plot_bgcolor="#2b2f36" if picture is None else "white",
                      margin=dict(l=60, r=20, t=40, b=50))
    return fig


# --------------------------------------------------------------------------- 3-D orbit

def _sphere(radius_km: float, colour: str) -> go.Surface:
    lat = np.linspace(-np.pi / 2, np.pi / 2, 37)
    lon = np.linspace(-np.pi, np.pi, 73)
    c = np.cos(lat)[:, None]
    xyz = [(radius_km * c * np.cos(lon)), (radius_km * c * np.sin(lon)),
           (radius_km * np.sin(lat)[:, None] * np.ones_like(lon))]
    return go.Surface(x=xyz[0].astype(np.float32), y=xyz[1].astype(np.float32),
                      z=xyz[2].astype(np.float32), surfacecolor=np.zeros((37, 73), np.float32),
                      colorscale=[[0, colour], [1, colour]], showscale=False, hoverinfo="skip",
                      lighting=dict(ambient=0.55, diffuse=0.7, specular=0.05), name="surface")


def orbit3d_figure(cols: TrackColumns, body: str, colours: dict[str, str],
                   max_points: int = MAX_POINTS) -> go.Figure:
    """Body-centred J2000 trajectory (km) around a sphere of the body's mean radius."""
    on_body = np.flatnonzero(cols.body == body)
    idx = on_body[decimate_indices(cols.phase[on_body], max_points)]
    radius_km = MEAN_RADIUS_KM.get(body, 1000.0)
    fig = go.Figure(_sphere(radius_km, "#9ea3aa" if body == "MOON" else "#3a78c2"))
    text = _hover_text(cols, idx)
    for phase in dict.fromkeys(cols.phase[idx]):
        sel = cols.phase[idx] == phase
        r = cols.r_km[idx[sel]].astype(np.float32)
        fig.add_trace(go.Scatter3d(
            x=r[:, 0], y=r[:, 1], z=r[:, 2], mode="lines", name=str(phase), text=text[sel],
            line=dict(color=colours.get(phase), width=4),
            hovertemplate=f"<b>{phase}</b><br>%{{text}}<extra></extra>"))
    axis = dict(showbackground=False, gridcolor="#2a313c", color="#8b949e", zeroline=False,
                nticks=5, tickfont=dict(size=10))
    fig.update_layout(scene=dict(aspectmode="data", bgcolor="#0d1117",
                                 camera=dict(eye=dict(x=1.5, y=1.5, z=0.9)),
                                 xaxis=dict(axis, title="x J2000 (km)"),
                                 yaxis=dict(axis, title="y J2000 (km)"),
                                 zaxis=dict(axis, title="z J2000 (km)")))
    fig = _styled(fig, 620)
    fig.update_layout(paper_bgcolor="#0d1117", font_color="#c9d1d9", margin=dict(l=0, r=0, t=30, b=0))
    return fig
