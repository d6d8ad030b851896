"""The campaign report: one self-contained HTML page of a Monte Carlo campaign's statistics.

``render_campaign_report`` turns the samples table (columns and metadata as described in
:mod:`guanghan.analysis.campaign_statistics`) into a single HTML string. It opens with what an
analyst reads first: overall success with its confidence interval, success per leg and the failure
reasons; then the landing dispersions on the Moon and the Earth with their probability ellipses,
histograms of the key figures with the propellant-margin table, every dispersed input against the
main outcome figure, the full percentile table and the dispersions flown. ``write_campaign_report``
writes it atomically. The page shell, CSS and inlined plotly.js are the mission report's
(:mod:`guanghan.analysis.report`), so it opens offline and makes no network request.

Assumptions and limitations
- Scatter plots (landing maps, inputs against the outcome figure) draw at most ``max_points``
  samples each (default 2000, a uniform stride over the sample order; captions say so);
  histograms, ellipses and every number in the tables use all samples.
- Landing maps are plain latitude/longitude axes scaled 1/cos(latitude) so that a metre is as long
  east-west as north-south near the centre; there is no basemap, as the global pictures of
  :mod:`guanghan.analysis.basemaps` are a few pixels across a landing dispersion. Longitudes are
  unwrapped about the dispersion's centre, so a cloud across ±180° stays in one piece.
- The ellipses use every sample with both landing coordinates, whatever its outcome.
- Key figures for the histograms are chosen by name (:data:`KEY_FIGURES`, at most 12); the main
  outcome figure of the input plots is the first of :data:`OUTCOME_FIGURES`, then of the
  propellant margins, that some sample produced, unless one is named. Inputs are ordered by
  |Spearman ρ| with that figure.

References
- See :mod:`guanghan.analysis.campaign_statistics` for the statistics and
  :mod:`guanghan.analysis.report` for the page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.offline
from plotly.subplots import make_subplots

from guanghan.analysis import campaign_statistics as S
from guanghan.analysis import report as R
from guanghan.analysis.figures import _styled

__all__ = ["KEY_FIGURES", "OUTCOME_FIGURES", "render_campaign_report", "write_campaign_report"]

KEY_FIGURES = (r"miss_k?m$", r"propellant_margin_kg$", r"touchdown_speed_m_s$", r"\.peak_g$",
               r"capture_(speed_m_s|offset_m)$", r"heat_load_j_m2$")
OUTCOME_FIGURES = ("earth_landing.miss_km", "entry.miss_km", "lunar_landing.miss_m")
_GOOD, _BAD, _INK = "#1b7f3b", "#c62828", "#1d2733"
_MAX_PANELS = 30


def render_campaign_report(table, *, title: str | None = None, confidence: float = 0.95,
                           method: str = "wilson", probability: float = 0.99,
                           max_points: int = 2000, outcome_figure: str | None = None) -> str:
    """The campaign report of the samples ``table`` (``pyarrow.Table``) as one HTML document.

    ``confidence`` and ``method`` ("wilson" or "clopper-pearson") set the success intervals,
    ``probability`` the landing ellipses, ``outcome_figure`` the column plotted against each input.
    """
    meta = S.campaign_metadata(table)
    images = R.ImageStore()                  # each map picture once per page, in its head
    title = title or str(meta.get("scenario") or "Monte Carlo campaign")
    legs = S.leg_success(table, meta.get("legs") or [], confidence, method)
    failures = S.failure_table(table)
    stats = S.figure_statistics(table)
    method_name = {"wilson": "Wilson", "clopper-pearson": "Clopper–Pearson"}[method]
    ci = f"{100 * confidence:g} % {method_name} interval"
    sections = [("success", "Success", _success_html(legs, ci, bool(meta.get("legs")))),
                ("failures", "Failures", _failure_html(failures))]
    for prefix, body, name in (("lunar_landing", "MOON", "Moon"),
                               ("earth_landing", "EARTH", "Earth")):
        if f"{prefix}.lat_deg" in table.column_names and f"{prefix}.lon_deg" in table.column_names:
            sections.append((f"{body.lower()}-landing", f"Landing dispersion on the {name}",
                             _landing_html(table, prefix, body, probability, max_points, images)))
    sections.append(("figures", "Key figures", _margins_html(S.propellant_margins(table))
                     + _histograms_html(table, stats, images)))
    outcome_figure = outcome_figure or _outcome_figure(stats)
    sections.append(("inputs", "Inputs against the outcome",
                     _inputs_html(table, outcome_figure, max_points, images)))
    sections.append(("percentiles", "Percentiles of every figure", _percentile_html(stats)))
    sections.append(("dispersions", "Dispersions", _dispersions_html(meta.get("dispersions"))))
    sub = [f"{table.num_rows:,} samples"]
    if meta.get("campaign_seed") is not None:
        sub.append(f"campaign seed {meta['campaign_seed']}")
    if meta.get("guanghan_version"):
        sub.append(f"guanghan {meta['guanghan_version']}")
    header = R.header_html("Guanghan campaign report", title, html.escape(" · ".join(sub)),
                           _cards(table, legs, failures, ci))
    return R.html_page(title, header, sections, _footer(meta), head=images.script())


def write_campaign_report(table, path, **kwargs) -> Path:
    """Render the report of ``table`` and write it to ``path`` atomically (temp file +
    ``os.replace``); the path. Keywords as :func:`render_campaign_report`."""
    return R.write_atomic(path, render_campaign_report(table, **kwargs))


# --------------------------------------------------------------------------- pieces

def _pct(p) -> str:
    return "—" if not np.isfinite(p) else f"{100 * p:.1f} %"


def _span(interval) -> str:
    low, high = interval
    return "—" if not np.isfinite(low) else f"{100 * low:.1f}–{100 * high:.1f} %"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _table(head, rows, cls: str = "") -> str:
    """A scrolling table; each cell is (html, css class)."""
    ths = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(f'<tr class="{rc}">' + "".join(f'<td class="{c}">{v}</td>' for v, c in cells)
                   + "</tr>" for rc, cells in rows)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{ths}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _num(value) -> tuple[str, str]:
    return (f"{value:,}" if isinstance(value, (int, np.integer)) else R._fmt(value), "num")


def _cards(table, legs, failures, ci) -> list[tuple[str, str, str]]:
    overall = legs[-1]
    cls = "good" if overall["failed"] == 0 else "bad"
    cards = [("Success", f'<span class="{cls}">{_pct(overall["probability"])}</span>',
              f"{_span(overall['interval'])}, {ci}"),
             ("Samples", f"{table.num_rows:,}",
              f"{overall['reached']:,} flown, {overall['invalid']:,} invalid")]
    weakest = [r for r in legs[:-1] if r["failed"]]
    if weakest:
        w = min(weakest, key=lambda r: r["probability"])
        cards.append(("Weakest leg", html.escape(str(w["leg"])),
                      f"{_pct(w['probability'])} of {w['reached']:,} that reached it"))
    flown = [f for f in failures if f["outcome"] != "invalid"]
    if flown:
        top = flown[0]
        cards.append(("Top failure", f"{top['count']:,}",
                      f"{top['outcome']} in {top['failed_leg'] or 'no named leg'}"))
    if "wall_s" in table.column_names:
        wall = S._floats(table, "wall_s")
        if np.isfinite(wall).any():
            cards.append(("Wall time", f"{np.nanmedian(wall):,.1f} s",
                          f"median per sample, {np.nansum(wall) / 3600:,.2f} h in all"))
    return cards


def _success_html(legs, ci, have_legs) -> str:
    o = legs[-1]
    notes = []
    if o["invalid"]:
        notes.append(f"{_count(o['invalid'], 'invalid sample')} (inputs refused) did not fly and "
                     "are left out.")
    if o["unlocated"]:
        notes.append(f"{_count(o['unlocated'], 'failure')} named no known leg: counted in the "
                     "overall row only.")
    lead = (f"<p><b>Overall success: {o['succeeded']:,} of {o['reached']:,} flown samples "
            f"({_pct(o['probability'])})</b>, {ci} {_span(o['interval'])}. {' '.join(notes)}</p>")
    if not have_legs:
        return lead + '<p class="empty">The table\'s metadata lists no legs: no per-leg rows.</p>'
    rows = [("bad" if r["failed"] else "",
             [(html.escape(str(r["leg"])), ""), (html.escape(str(r["leg_type"])), "")]
             + [_num(r[k]) for k in ("reached", "succeeded", "failed")]
             + [(_pct(r["probability"]), "num"), (_span(r["interval"]), "num")]) for r in legs]
    rows[-1] = ("group", [(f"<b>{v}</b>", c) for v, c in rows[-1][1]])
    head = ["Leg", "Type", "Reached", "Succeeded", "Failed", "P(success | reached)", ci]
    return lead + _table(head, rows, "summary")


def _failure_html(failures) -> str:
    if not failures:
        return '<p class="empty">Every sample completed.</p>'
    rows = [("", [(html.escape(f["outcome"]), ""), (html.escape(str(f["failed_leg"] or "—")), ""),
                  (_titled(f["reason"] or "—", f["example"]), "src"), _num(f["count"]),
                  (_pct(f["fraction"]), "num"), (html.escape(str(f["first_index"])), "num")])
            for f in failures]
    return ("<p>Numbers in reasons are shown as # so that alike failures count together; hover a "
            "reason for its first example.</p>"
            + _table(["Outcome", "Leg", "Reason", "Samples", "Share of all", "First sample"], rows))


def _titled(text: str, title: str) -> str:
    """``text`` with a hover ``title``, both escaped."""
    return f'<span title="{html.escape(title)}">{html.escape(text)}</span>'


def _stride(n: int, max_points: int) -> np.ndarray:
    """At most max_points indices of 0..n-1, evenly spread."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).astype(int))


def _landing_html(table, prefix, body, probability, max_points, images=None) -> str:
    lat, lon = S._floats(table, f"{prefix}.lat_deg"), S._floats(table, f"{prefix}.lon_deg")
    have = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if have.size == 0:
        return '<p class="empty">No sample produced a landing point.</p>'
    ell = S.dispersion_ellipse(lat, lon, probability, radius_m=S.BODY_RADIUS_M[body])
    centre = ell.centre_lon_deg if ell else float(np.median(lon[have]))
    lon_u = centre + (lon - centre + 180.0) % 360.0 - 180.0
    done = np.array(S._strings(table, "outcome"), dtype=object) == "completed"
    index = np.array(S._strings(table, "index") if "index" in table.column_names
                     else range(table.num_rows), dtype=object)
    shown = have[_stride(have.size, max_points)]
    fig = go.Figure()
    for mask, name, colour, symbol in ((done, "completed", _GOOD, "circle"),
                                       (~done, "not completed", _BAD, "x")):
        sel = shown[mask[shown]]
        if sel.size:
            fig.add_trace(go.Scatter(
                x=lon_u[sel], y=lat[sel], mode="markers", name=name,
                marker=dict(color=colour, size=5, symbol=symbol, opacity=0.7),
                text=[f"sample {i}" for i in index[sel]],
                hovertemplate="%{text}<br>lat %{y:.5f}°, lon %{x:.5f}°<extra></extra>"))
    lat0 = float(np.median(lat[have]))
    if ell is not None:
        o_lon = centre + (ell.outline_lon_deg - centre + 180.0) % 360.0 - 180.0
        fig.add_trace(go.Scatter(x=o_lon, y=ell.outline_lat_deg, mode="lines", hoverinfo="skip",
                                 name=f"{100 * probability:g} % ellipse",
                                 line=dict(color=_INK, width=2)))
        fig.add_trace(go.Scatter(
            x=[centre], y=[ell.centre_lat_deg], mode="markers", name="mean",
            marker=dict(symbol="cross", size=11, color=_INK),
            hovertemplate="mean<br>lat %{y:.5f}°, lon %{x:.5f}°<extra></extra>"))
        lat0 = ell.centre_lat_deg
    fig.update_xaxes(title_text="longitude (° E)")
    fig.update_yaxes(title_text="latitude (°)", scaleanchor="x",
                     scaleratio=1.0 / max(np.cos(np.radians(lat0)), 0.05))
    caption = (f"{have.size:,} landing points"
               + (f", {shown.size:,} drawn (uniform stride)" if shown.size < have.size else "")
               + "; ellipse and mean from all points, outcomes as marked. Axes scaled so that a "
               "metre is as long east-west as north-south at the centre.")
    figure = R._figure_html((f"fig-{body.lower()}-landing", "", caption, _styled(fig, 560)), images)
    if ell is None:
        return figure + (f'<p class="empty">{have.size} landing point(s): at least 3 are needed '
                         f"for an ellipse.</p>")
    inside = float(np.mean(ell.contains(lat[have], lon[have])))
    kv = [("points", f"{ell.n:,}"),
          ("mean", f"{ell.centre_lat_deg:.5f}°, {ell.centre_lon_deg:.5f}°"),
          ("semi-major", _length(ell.semi_major_m)), ("semi-minor", _length(ell.semi_minor_m)),
          ("major axis azimuth", f"{ell.orientation_deg:.1f}° from north"),
          ("points inside", _pct(inside))]
    spans = " ".join(f'<span class="kv"><b>{k}</b> {html.escape(v)}</span>' for k, v in kv)
    return (f"<p>{100 * probability:g} % ellipse of a 2-D Gaussian fitted to the landing points "
            f"(sample mean and covariance in the local tangent plane, χ² with 2 degrees of "
            f"freedom): {spans}</p>{figure}")


def _length(metres: float) -> str:
    return f"{metres / 1e3:,.2f} km" if metres >= 1e4 else f"{metres:,.1f} m"


def _label(key: str) -> str:
    phase, quantity, unit = R.split_summary_key(key)
    return f"{phase}: {quantity}" + (f" ({unit})" if unit else "")


def _margins_html(rows) -> str:
    if not rows:
        return ""
    keys = ("count", "min", "p1", "p5", "median", "negative")
    body = [("bad" if r["negative"] else "",
             [(html.escape(_label(r["figure"])), "")] + [_num(r[k]) for k in keys]
             + [(_pct(r["fraction_negative"]), "num")]) for r in rows]
    head = ["Propellant margin", "Samples", "min (kg)", "p1 (kg)", "p5 (kg)", "median (kg)",
            "Negative", "Fraction negative"]
    return _table(head, body, "summary")


def _key_figures(table, stats) -> list[str]:
    present = [s["figure"] for s in stats if s["count"]]
    chosen = [f for pattern in KEY_FIGURES for f in present if re.search(pattern, f)]
    chosen = list(dict.fromkeys(chosen))[:12]
    return chosen or present[:6]


def _histograms_html(table, stats, images=None) -> str:
    names = _key_figures(table, stats)
    if not names:
        return '<p class="empty">No sample produced a numeric figure.</p>'
    by_name = {s["figure"]: s for s in stats}
    rows = (len(names) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=[_label(n) for n in names],
                        vertical_spacing=min(0.3 / rows, 0.12), horizontal_spacing=0.08)
    for k, name in enumerate(names):
        r, c = k // 2 + 1, k % 2 + 1
        values = S._floats(table, name)
        fig.add_trace(go.Histogram(x=values[np.isfinite(values)], marker_color="#1f5fa8",
                                   showlegend=False, name=name,
                                   hovertemplate="%{x}<br>%{y} samples<extra></extra>"), r, c)
        s = by_name[name]
        for x, dash, colour in ((s["p1"], "dot", _INK), (s["p50"], "solid", _INK),
                                (s["p99"], "dot", _INK)):
            if np.isfinite(x):
                fig.add_vline(x=x, line=dict(dash=dash, color=colour, width=1), row=r, col=c)
        if name.endswith("propellant_margin_kg"):
            fig.add_vline(x=0.0, line=dict(color=_BAD, width=2), row=r, col=c)
    fig.update_annotations(font_size=12)
    caption = ("Histograms over every sample that produced the figure; solid line: median, dotted: "
               "1st and 99th percentiles, red: zero propellant margin.")
    return R._figure_html(("fig-histograms", "", caption, _styled(fig, 60 + 250 * rows)), images)


def _outcome_figure(stats) -> str | None:
    """The first of OUTCOME_FIGURES, then of the propellant margins, that some sample produced."""
    present = [s["figure"] for s in stats if s["count"]]
    margins = [n for n in present if n.endswith("propellant_margin_kg")]
    return next((n for n in (*OUTCOME_FIGURES, *margins) if n in present), None)


def _inputs_html(table, figure, max_points, images=None) -> str:
    inputs = [n for n in table.column_names if n.startswith("input:")]
    if not inputs:
        return '<p class="empty">The table has no dispersed inputs.</p>'
    if figure is None or figure not in table.column_names:
        return ('<p class="empty">No outcome figure (miss distance or propellant margin) to '
                "plot.</p>")
    y = S._floats(table, figure)
    have = np.flatnonzero(np.isfinite(y))
    if have.size == 0:
        return f'<p class="empty">No sample produced {html.escape(figure)}.</p>'
    ranked = S.rank_correlations(table, figure)[:_MAX_PANELS]
    shown = have[_stride(have.size, max_points)]
    done = np.array(S._strings(table, "outcome"), dtype=object)[shown] == "completed"
    cols, rows = 3, (len(ranked) + 2) // 3
    titles = [f"ρ = {r['rho']:+.2f} (n = {r['n']:,})" if np.isfinite(r["rho"]) else "ρ n/a"
              for r in ranked]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.07,
                        vertical_spacing=min(0.35 / rows, 0.12))
    for k, r in enumerate(ranked):
        row, col = k // cols + 1, k % cols + 1
        x = np.array(S._strings(table, r["input"]), dtype=object)[shown]
        for mask, name, colour, symbol in ((done, "completed", _GOOD, "circle"),
                                           (~done, "not completed", _BAD, "x")):
            ok = mask & np.array([v is not None for v in x], dtype=bool)
            fig.add_trace(go.Scatter(x=list(x[ok]), y=y[shown][ok], mode="markers", name=name,
                                     legendgroup=name, showlegend=k == 0 and bool(ok.any()),
                                     marker=dict(color=colour, size=4, symbol=symbol, opacity=0.6),
                                     hovertemplate="%{x}<br>%{y:.4g}<extra></extra>"), row, col)
        fig.update_xaxes(title_text=r["input"].removeprefix("input:"), title_font_size=11,
                         row=row, col=col)
        fig.update_yaxes(title_text=_label(figure) if col == 1 else "", title_font_size=11,
                         row=row, col=col)
    fig.update_annotations(font_size=12)
    more = len(inputs) - len(ranked)
    caption = (f"{_label(figure)} against each dispersed input, ordered by |Spearman ρ|; "
               f"{have.size:,} samples have the figure ({table.num_rows - have.size:,} do not and "
               "are not drawn)")
    if shown.size < have.size:
        caption += f", {shown.size:,} drawn (uniform stride)"
    caption += (f"; {more} weaker inputs not shown." if more > 0 else ".")
    return R._figure_html(("fig-inputs", "", caption, _styled(fig, 80 + 290 * rows)), images)


def _percentile_html(stats) -> str:
    if not stats:
        return '<p class="empty">The table has no numeric summary figures.</p>'
    keys = ("mean", "std", "min", "p1", "p5", "p50", "p95", "p99", "max")
    rows, group = [], None
    for s in stats:
        phase, quantity, unit = R.split_summary_key(s["figure"])
        if phase != group:
            group = phase
            rows.append(("group", [(f"<b>{html.escape(phase)}</b>", "")] + [("", "")] * 11))
        count = f"{s['count']:,}" + (f" (+{s['non_finite']} ±inf)" if s["non_finite"] else "")
        rows.append(("", [(_titled(quantity, s["figure"]), ""), (html.escape(unit), ""),
                          (count, "num")] + [_num(s[k]) for k in keys]))
    head = ["Quantity", "Unit", "n", "mean", "std", "min", "p1", "p5", "p50", "p95", "p99", "max"]
    return ("<p>Over every sample that produced the figure, whatever its outcome; percentiles "
            "interpolate linearly between order statistics; booleans read as 0/1.</p>"
            + _table(head, rows))


def _dispersions_html(dispersions) -> str:
    if not dispersions:
        return '<p class="empty">The table\'s metadata lists no dispersions.</p>'
    rows = [("", [(html.escape(str(d.get("path", ""))), "mono"),
                  (html.escape(str(d.get("distribution", ""))), ""),
                  (R._meta_value({k: v for k, v in d.items() if k not in ("path", "distribution")}),
                   "")]) for d in dispersions]
    return _table(["Path", "Distribution", "Parameters"], rows)


def _footer(meta: dict) -> str:
    items = "".join(f"<dt>{html.escape(str(k).replace('_', ' '))}</dt><dd>{R._meta_value(v)}</dd>"
                    for k, v in meta.items() if k not in ("dispersions", "leg_types"))
    return (f"<footer><dl>{items}</dl><p>Self-contained page: plotly.js "
            f"{html.escape(plotly.offline.get_plotlyjs_version())} is inlined; it makes no "
            "network request.</p></footer>")
