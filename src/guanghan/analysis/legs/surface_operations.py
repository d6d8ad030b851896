"""Figures of the surface-operations leg: Sun, Earth and temperatures over the stay, the surface
timeline (Gantt chart over the link windows), the relay geometry in the Moon-fixed frame and the
temperatures of the deployed hardware.

Every figure reads one table of ``inputs.series`` (``<phase>.conditions``, ``.timeline``,
``.links``, ``.relay_orbit``, ``.flag``); a missing or empty table, or one without the columns a
figure needs, drops that figure and nothing else.

Assumptions and limitations
    Times are hours since touchdown; UTC in the hover labels comes from the ``epoch`` column of
    ``conditions`` (touchdown = first epoch minus its ``t_h``), so relay and hardware hovers show
    UTC only when ``conditions`` is present. The hardware's deployment instant is taken as the end
    of the timeline's ``flag`` task (else no UTC is shown). Lift-off readiness is drawn at the
    latest task end. Link availability in the first figure is the sampled ``direct_visible`` /
    ``relay_visible`` flags (about 10 min resolution); the Gantt's bands are the ``links``
    windows. The Earth line of the relay figure follows the mean of the Earth directions over
    the stay (libration moves it by < 0.2° a day). Long series are decimated to
    ``inputs.max_points`` plotted points per figure (:func:`guanghan.analysis.figures.
    decimate_indices`, run ends of the link flags kept); extrema between samples may be lost.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from guanghan.analysis import figures as F
from guanghan.analysis.legs import FigureInputs, register_figures
from guanghan.environment import geodetic

MOON_RADIUS_KM = geodetic.MOON_MEAN_RADIUS / 1e3  # IAU/LOLA reference sphere
_KIND_COLOURS = {"checkout": "#7f8c8d", "drill": "#8e44ad", "scoop": "#d35400", "pack": "#1f5fa8",
                 "flag": "#c0392b", "ascent_prep": "#16a085"}
_LINK_COLOURS = {"direct": "#1f77b4", "relay": "#ff7f0e"}
_LINK_BANDS = {"direct": "rgba(31,119,180,0.10)", "relay": "rgba(255,127,14,0.12)"}
_MAX_SHAPES = 400
_WAIT_NOTE = "<br>waits for ground confirmation"


def _col(table, name) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _table(inp: FigureInputs, phase: str, name: str, needs: tuple[str, ...]):
    """The series table ``<phase>.<name>`` when it has rows and every needed column, else None."""
    table = inp.series.get(f"{phase}.{name}")
    ok = table is not None and table.num_rows > 0 and set(needs) <= set(table.column_names)
    return table if ok else None


def _utc_of_hours(conditions, t_h: np.ndarray) -> np.ndarray | None:
    """UTC strings (to the minute) of hours since touchdown, or None without epochs."""
    if conditions is None or "epoch" not in conditions.column_names:
        return None
    epoch = _col(conditions, "epoch").astype("datetime64[ns]")
    t0 = epoch[0] - np.timedelta64(round(_col(conditions, "t_h")[0] * 3.6e12), "ns")
    stamps = t0 + np.round(np.asarray(t_h, float) * 3.6e12).astype("timedelta64[ns]")
    return np.char.replace(np.datetime_as_string(stamps, unit="m"), "T", " ")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of every run of True in ``flags``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return [(a, b - 1) for a, b in zip(edges[0::2], edges[1::2])]


def _merged_spans(start: np.ndarray, end: np.ndarray) -> list[list[float]]:
    """Union of the intervals [start, end] as sorted disjoint [start, end] spans."""
    spans: list[list[float]] = []
    for s, e in sorted(zip(start, end)):
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    return spans


def _link_band(kind: str, level: int, t_h: np.ndarray, utc, seen: np.ndarray) -> go.Scatter:
    """A thick line at ``level`` where the link is available, hover: the run's start → end."""
    text = np.full(len(t_h), "", dtype=object)
    for a, b in _runs(seen):  # run ends are kept by the decimation
        text[a:b + 1] = (f"{utc[a]} → {utc[b]} UTC" if utc is not None
                         else f"t+{t_h[a]:.2f} → t+{t_h[b]:.2f} h")
    return go.Scatter(x=t_h, y=np.where(seen, float(level), np.nan), text=text, mode="lines",
                      name=f"{kind} link", line={"color": _LINK_COLOURS[kind], "width": 8},
                      hovertemplate=f"<b>{kind} link</b><br>%{{text}}<extra></extra>")


def conditions_figure(cond, timeline=None, show_relay: bool = True,
                      max_points: int = F.MAX_POINTS) -> go.Figure:
    """Sun/Earth elevation, regolith/lander temperature and link availability against hours since
    touchdown; task spans shaded."""
    t_all = _col(cond, "t_h").astype(float)
    flags = {k: _col(cond, f"{k}_visible").astype(bool) for k in ("direct", "relay")
             if f"{k}_visible" in cond.column_names}
    if "relay" in flags and not (show_relay or flags["relay"].any()):
        del flags["relay"]  # no relay in this run: no empty row
    links = list(flags)
    labels = sum((flags[k] * (i + 1) for i, k in enumerate(links)), np.zeros(len(t_all), int))
    utc_all = _utc_of_hours(cond, t_all)
    panels = ((1, "sun_elevation_deg", "Sun elevation", "#f39c12"),
              (1, "earth_elevation_deg", "Earth elevation", "#1f77b4"),
              (2, "regolith_temp_k", "regolith temperature", "#8c564b"),
              (2, "lander_temp_k", "lander temperature", "#2ca02c"))

    def build(budget: int) -> go.Figure:
        idx = F.decimate_indices(labels, max(2, budget // (len(panels) + len(links))))
        t, utc = t_all[idx], (utc_all[idx] if utc_all is not None else None)
        fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                            row_heights=[0.44, 0.44, 0.12],
                            subplot_titles=["elevation above the horizon (°)", "temperature (K)",
                                            "link available"])
        tail = ("<br>%{text} UTC" if utc is not None else "") + "<extra></extra>"
        for row, name, label, colour in panels:
            if name not in cond.column_names:
                continue
            unit = "°" if row == 1 else " K"
            fig.add_trace(go.Scatter(
                x=t, y=_col(cond, name)[idx].astype(np.float32), mode="lines",
                name=label, line={"color": colour, "width": 2}, text=utc,
                hovertemplate=f"<b>{label}</b> %{{y:.1f}}{unit}<br>t+%{{x:.2f}} h{tail}"),
                row=row, col=1)
        for level, kind in enumerate(links):
            fig.add_trace(_link_band(kind, level, t, utc, flags[kind][idx]), row=3, col=1)
        return fig

    fig = F._fit(build, max_points)
    fig.add_hline(y=0.0, line={"color": "#5b6776", "dash": "dot", "width": 1}, row=1, col=1)
    if timeline is not None:
        for s, e in _merged_spans(_col(timeline, "start_h"), _col(timeline, "end_h"))[:_MAX_SHAPES]:
            fig.add_shape(type="rect", xref="x", yref="paper", x0=s, x1=e, y0=0, y1=1,
                          fillcolor="rgba(30,40,60,0.07)", line_width=0, layer="below")
    fig.update_yaxes(range=[-0.6, len(links) - 0.4], tickvals=list(range(len(links))),
                     ticktext=links, showgrid=False, row=3, col=1)
    fig.update_xaxes(title_text="time since touchdown (h)", row=3, col=1)
    return F._styled(fig, 760)


def _link_rows(fig: go.Figure, links) -> list[str]:
    """Link windows as bars on rows of their own and as shaded bands behind; the row names."""
    rows = []
    for kind in ("direct", "relay"):
        sel = _col(links, "kind").astype(str) == kind
        if not sel.any():
            continue
        s, e = _col(links, "start_h")[sel].astype(float), _col(links, "end_h")[sel].astype(float)
        rows.append(f"{kind} link")
        extra = [_col(links, c)[sel].tolist() if c in links.column_names else [None] * sel.sum()
                 for c in ("start_utc", "end_utc", "data_volume_mbit", "mean_rate_kbit_s")]
        fig.add_trace(go.Bar(
            y=[rows[-1]] * len(s), x=e - s, base=s, orientation="h", name=f"{kind} link windows",
            marker={"color": _LINK_COLOURS[kind], "opacity": 0.55},
            customdata=list(map(list, zip(*extra))),
            hovertemplate=f"<b>{kind} link</b><br>%{{customdata[0]}} → %{{customdata[1]}} UTC"
                          "<br>%{customdata[2]:,.0f} Mbit at %{customdata[3]:,.1f} kbit/s"
                          "<extra></extra>"))
        for a, b in list(zip(s, e))[:_MAX_SHAPES]:
            fig.add_vrect(x0=a, x1=b, fillcolor=_LINK_BANDS[kind], line_width=0, layer="below")
    return rows


def timeline_figure(timeline, links=None) -> go.Figure:
    """Gantt chart of the tasks, coloured by kind, confirmation tasks hatched, link windows as
    bands behind (and as rows on top) and a dashed line at lift-off readiness."""
    task, kind = _col(timeline, "task").astype(str), _col(timeline, "kind").astype(str)
    start, end = _col(timeline, "start_h").astype(float), _col(timeline, "end_h").astype(float)
    n = len(task)
    conf = (_col(timeline, "needs_confirmation").astype(bool)
            if "needs_confirmation" in timeline.column_names else np.zeros(n, bool))
    utc = [(_col(timeline, c).astype(str) if c in timeline.column_names else np.full(n, "?"))
           for c in ("start_utc", "end_utc")]
    colours = {**F.phase_colours(kind), **_KIND_COLOURS}
    fig = go.Figure()
    rows = _link_rows(fig, links) if links is not None else []
    for k in map(str, dict.fromkeys(kind)):
        sel = kind == k
        fig.add_trace(go.Bar(
            y=task[sel], x=end[sel] - start[sel], base=start[sel], orientation="h", name=k,
            marker={"color": colours[k],
                    "line": {"color": "#1d2733", "width": np.where(conf[sel], 1.5, 0.0)},
                    "pattern": {"shape": np.where(conf[sel], "/", ""), "fgcolor": "#ffffff"}},
            customdata=[[a, b, f"t+{t:.2f} h", note] for a, b, t, note in zip(
                utc[0][sel], utc[1][sel], start[sel], np.where(conf[sel], _WAIT_NOTE, ""))],
            hovertemplate=f"<b>%{{y}}</b> ({k})<br>%{{customdata[0]}} → %{{customdata[1]}} UTC"
                          "<br>%{customdata[2]}, %{x:.2f} h long%{customdata[3]}<extra></extra>"))
    if conf.any():  # a legend entry for the hatching
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="hatched: needs "
                                 "confirmation", marker={"symbol": "square", "size": 12,
                                 "color": "#fff", "line": {"color": "#1d2733", "width": 1.5}}))
    ready_h = float(np.max(end))
    fig.add_vline(x=ready_h, line={"color": "#c0392b", "dash": "dash", "width": 2},
                  annotation_text=f"lift-off ready t+{ready_h:.1f} h",
                  annotation_position="top left")
    order = rows + list(dict.fromkeys(task))
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], showgrid=True)
    fig.update_xaxes(title_text="time since touchdown (h)")
    fig.update_layout(barmode="overlay", bargap=0.3)
    return F._styled(fig, 160 + 28 * len(order))


def relay_geometry_figure(relay, lat_deg: float | None, lon_deg: float | None, utc=None,
                          max_points: int = F.MAX_POINTS) -> go.Figure:
    """The Moon (sphere of mean radius), the relay's orbit, the site and the Earth direction in
    the Moon-fixed MOON_ME frame (km), equal aspect."""
    idx = F.decimate_indices(np.zeros(relay.num_rows, int), max(2, max_points - 4))
    t_h = _col(relay, "t_h").astype(float)[idx]
    r_km = np.column_stack([_col(relay, c)[idx] for c in ("x_km", "y_km", "z_km")]).astype(float)
    fig = go.Figure(F._sphere(MOON_RADIUS_KM, "#9ea3aa").update(name="Moon (mean radius)"))
    text = [f"t+{t:.2f} h" + (f"<br>{u} UTC" if utc is not None else "")
            for t, u in zip(t_h, utc[idx] if utc is not None else t_h)]
    fig.add_trace(go.Scatter3d(x=r_km[:, 0], y=r_km[:, 1], z=r_km[:, 2], mode="lines",
                               name="relay orbit", line={"color": "#ff7f0e", "width": 4}, text=text,
                               hovertemplate="<b>relay</b><br>%{text}<br>%{x:,.0f}, %{y:,.0f}, "
                                             "%{z:,.0f} km<extra></extra>"))
    if lat_deg is not None and lon_deg is not None:
        x, y, z = geodetic.cartesian_from_planetocentric(
            np.radians(lat_deg), np.radians(lon_deg), geodetic.MOON_MEAN_RADIUS) / 1e3
        fig.add_trace(go.Scatter3d(
            x=[x], y=[y], z=[z], mode="markers", name="landing site",
            marker={"size": 6, "color": "#ffd60a", "symbol": "diamond"},
            hovertemplate=f"<b>landing site</b><br>lat {lat_deg:.3f}°, lon {lon_deg:.3f}°"
                          "<extra></extra>"))
    u = np.array([np.nanmean(_col(relay, f"earth_{c}").astype(float)) for c in "xyz"])
    if np.all(np.isfinite(u)) and np.linalg.norm(u) > 0:
        u /= np.linalg.norm(u)
        reach = np.nanmax(np.linalg.norm(r_km, axis=1), initial=2.0 * MOON_RADIUS_KM) * 1.15
        tip = u * reach
        fig.add_trace(go.Scatter3d(x=[0.0, tip[0]], y=[0.0, tip[1]], z=[0.0, tip[2]], mode="lines",
                                   name="toward the Earth", hoverinfo="skip",
                                   line={"color": "#1f77b4", "width": 5, "dash": "dash"}))
        fig.add_trace(go.Cone(x=[tip[0]], y=[tip[1]], z=[tip[2]], u=[u[0]], v=[u[1]], w=[u[2]],
                              sizemode="absolute", sizeref=0.08 * reach, anchor="tip",
                              colorscale=[[0, "#1f77b4"], [1, "#1f77b4"]], showscale=False,
                              hoverinfo="skip", name="Earth"))
    axis = {"showbackground": False, "gridcolor": "#2a313c", "color": "#8b949e",
            "zeroline": False, "nticks": 5, "tickfont": {"size": 10}}
    fig.update_layout(scene={"aspectmode": "data", "bgcolor": "#0d1117",
                             **{f"{a}axis": {**axis, "title": f"{a} MOON_ME (km)"} for a in "xyz"}})
    fig = F._styled(fig, 620)
    fig.update_layout(paper_bgcolor="#0d1117", font_color="#c9d1d9",
                      margin={"l": 0, "r": 0, "t": 30, "b": 0})
    return fig


def hardware_temperature_figure(flag, limits: tuple = (None, None), deploy_h: float | None = None,
                                conditions=None, max_points: int = F.MAX_POINTS) -> go.Figure:
    """Temperature (K) of each deployed item against days since deployment, limits dashed."""
    items = _col(flag, "item").astype(str)
    t_d, temp = _col(flag, "t_d").astype(float), _col(flag, "temp_k").astype(float)
    names = list(map(str, dict.fromkeys(items)))
    colours, fig = F.phase_colours(names), go.Figure()
    for name in names:
        sel = np.flatnonzero(items == name)
        sel = sel[F.decimate_indices(np.zeros(len(sel), int), max(2, max_points // len(names)))]
        utc = None if deploy_h is None else _utc_of_hours(conditions, deploy_h + 24.0 * t_d[sel])
        fig.add_trace(go.Scatter(
            x=t_d[sel], y=temp[sel].astype(np.float32), mode="lines", name=name,
            line={"color": colours[name], "width": 2}, text=utc,
            hovertemplate=f"<b>{name}</b> %{{y:.1f}} K<br>day %{{x:.2f}}"
                          + ("<br>%{text} UTC" if utc is not None else "") + "<extra></extra>"))
    for value, label in zip(limits, ("min", "max")):
        if value is not None and np.isfinite(value):
            fig.add_hline(y=float(value), line={"color": "#c62828", "dash": "dash", "width": 1.5},
                          annotation_text=f"material {label} {float(value):.0f} K")
    fig.update_xaxes(title_text="time since deployment (d)")
    fig.update_yaxes(title_text="temperature (K)")
    return F._styled(fig, 420)


def _site(inp: FigureInputs, phase: str) -> tuple[float | None, float | None]:
    lat, lon = inp.summary.get(f"{phase}.site_lat_deg"), inp.summary.get(f"{phase}.site_lon_deg")
    if lat is None or lon is None:
        moon = [s for s in inp.meta.get("sites") or []
                if str(s.get("body", "MOON")).upper() == "MOON"]
        lat, lon = (moon[0].get("lat_deg"), moon[0].get("lon_deg")) if moon else (None, None)
    return (None, None) if lat is None or lon is None else (float(lat), float(lon))


_FLAG_FACTS = (("temp_min_k", "min {:.0f} K".format), ("temp_max_k", "max {:.0f} K".format),
               ("thermal_cycles", "thermal cycles: {:.0f}".format),
               ("survives", lambda ok: "survives" if str(ok).lower() in ("true", "1", "1.0", "yes")
                else "does NOT survive"))


def _flag_value(summary: dict, phase: str, key: str):
    return summary.get(f"{phase}.flag.{key}", summary.get(f"flag.{key}"))


def _hardware_entry(inp: FigureInputs, phase: str, slug: str, flag, timeline, cond) -> tuple:
    """The hardware figure with its limits, its deployment time and the summary in the caption."""
    s = inp.summary
    limits = (_flag_value(s, phase, "limit_min_k"), _flag_value(s, phase, "limit_max_k"))
    facts = "; ".join(fmt(v) for key, fmt in _FLAG_FACTS
                      if (v := _flag_value(s, phase, key)) is not None)
    deploy = None
    if timeline is not None and (is_flag := _col(timeline, "kind").astype(str) == "flag").any():
        deploy = float(_col(timeline, "end_h")[is_flag][0])
    return (f"fig-surface-hardware-{slug}", "Deployed hardware temperatures",
            ("Temperature of each deployed item against days since its deployment; dashed lines: "
             "material limits." + (f" ({facts}.)" if facts else "")),
            hardware_temperature_figure(flag, limits, deploy, cond, inp.max_points))


def surface_figures(inp: FigureInputs, phase: str) -> list:
    """The figures of a surface-operations leg (those whose tables are present)."""
    slug = phase.replace("_", "-")
    cond = _table(inp, phase, "conditions", ("t_h",))
    timeline = _table(inp, phase, "timeline", ("task", "kind", "start_h", "end_h"))
    links = _table(inp, phase, "links", ("kind", "start_h", "end_h"))
    relay = _table(inp, phase, "relay_orbit", ("t_h", "x_km", "y_km", "z_km",
                                                "earth_x", "earth_y", "earth_z"))
    flag = _table(inp, phase, "flag", ("item", "t_d", "temp_k"))
    out = []
    if cond is not None:
        out.append((f"fig-surface-conditions-{slug}", "Sun, Earth and temperatures over the stay",
                    ("Sun and Earth elevation above the site's horizon (dotted 0°), regolith and "
                     "lander temperature, and when the direct and relay links are available, "
                     "against hours since touchdown; grey bands: spans of scheduled tasks."),
                    conditions_figure(cond, timeline, relay is not None, inp.max_points)))
    if timeline is not None:
        out.append((f"fig-surface-timeline-{slug}", "Surface timeline",
                    ("One bar per task, coloured by kind; hatched bars wait for a ground "
                     "confirmation. Shaded bands and the top rows: direct (blue) and relay "
                     "(orange) link windows; the dashed line marks lift-off readiness."),
                    timeline_figure(timeline, links)))
    if relay is not None:
        t_utc = _utc_of_hours(cond, _col(relay, "t_h"))
        out.append((f"fig-relay-geometry-{slug}", "Relay geometry",
                    ("The relay's orbit over the stay around the Moon (sphere of mean radius) in "
                     "the Moon-fixed MOON_ME frame (km), the landing site (diamond) and the mean "
                     "Earth direction (dashed arrow). Drag to rotate."),
                    relay_geometry_figure(relay, *_site(inp, phase), t_utc, inp.max_points)))
    if flag is not None:
        out.append(_hardware_entry(inp, phase, slug, flag, timeline, cond))
    return out


register_figures("surface_operations", surface_figures)
