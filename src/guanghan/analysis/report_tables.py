"""The report's HTML tables: published vs simulated milestones, events, validation and summary.

Each builder returns an HTML fragment in the report's style (:mod:`guanghan.analysis.report`);
every value is escaped. The event table scrolls inside a box (hundreds of rows); the milestone,
validation and summary tables are shown whole, at the page's width.
"""

from __future__ import annotations

import html

import numpy as np

from guanghan.analysis.mission_timeline import Milestone, format_difference

__all__ = ["fmt", "details_html", "milestone_table", "events_table", "validation_table",
           "summary_table", "split_summary_key", "UNITS"]

UNITS = {"m_s2": "m/s²", "m_s": "m/s", "km_s": "km/s", "deg_s": "°/s", "kg_s": "kg/s",
         "km": "km", "m": "m", "s": "s", "h": "h", "d": "d", "days": "d", "kg": "kg",
         "deg": "°", "rad": "rad", "n": "N", "kn": "kN", "pct": "%", "percent": "%",
         "j": "J", "w": "W", "g": "g", "count": "", "min": "min", "utc": "UTC",
         "w_m2": "W/m²", "j_m2": "J/m²"}


def fmt(value) -> str:
    """A value for a table cell: 6 significant digits, thousands separators, — for none/NaN."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:.6g}"
    return html.escape(str(value))


def details_html(details) -> str:
    if not isinstance(details, dict):
        return html.escape(str(details or ""))
    return " ".join(f'<span class="kv"><b>{html.escape(str(k))}</b> {fmt(v)}</span>'
                    for k, v in details.items())


def _table(head, rows: list[str], cls: str = "") -> str:
    ths = "".join(f"<th>{h}</th>" for h in head)
    return (f'<div class="wide"><table class="{cls}"><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def milestone_table(rows: list[Milestone]) -> str:
    """Published vs simulated epochs, one row per milestone; not-simulated rows greyed."""
    if not rows:
        return '<p class="empty">The scenario gives no published timeline ([timeline]).</p>'
    out = []
    for m in rows:
        cls = "" if m.simulated else "notrun"
        where = f"{m.phase}: {m.event}" if m.phase and m.event else ""
        out.append(f'<tr class="{cls}"><td>{html.escape(m.name.replace("_", " "))}</td>'
                   f'<td class="mono">{html.escape(m.published_utc)}</td>'
                   f'<td class="mono">{fmt(m.simulated_utc)}</td>'
                   f'<td class="num">{format_difference(m.difference_s)}</td>'
                   f'<td>{html.escape(where)}</td><td class="src">{html.escape(m.note)}</td></tr>')
    flown = sum(m.simulated for m in rows)
    return (f'<p class="lead">{flown} of {len(rows)} published epochs have a simulated '
            f'counterpart; difference = simulated − published.</p>'
            + _table(("Milestone", "Published (UTC)", "Simulated (UTC)", "Difference",
                      "Phase: event", "Note"), out, "milestones"))


def events_table(events: list[dict]) -> str:
    if not events:
        return '<p class="empty">No events were recorded in this run.</p>'
    rows = "".join(
        f'<tr class="{"bad" if "fail" in str(e.get("event")) else ""}">'
        f'<td class="mono">{html.escape(str(e.get("utc", "")))}</td>'
        f'<td>{html.escape(str(e.get("phase", "")))}</td><td>{html.escape(str(e.get("event", "")))}</td>'
        f'<td>{details_html(e.get("details"))}</td></tr>' for e in events)
    return (f'<details class="table" open><summary>Event table ({len(events):,} rows)</summary>'
            f'<div class="scroll"><table><thead><tr><th>UTC</th><th>Phase</th><th>Event</th>'
            f'<th>Details</th></tr></thead><tbody>{rows}</tbody></table></div></details>')


def validation_table(validation: list[dict]) -> str:
    """Every row with its full key, published and simulated values, difference, tolerance, unit,
    status, note and source."""
    if not validation:
        return '<p class="empty">No validation rows for this run.</p>'
    rows = []
    for v in validation:
        status = str(v.get("status", "not run"))
        cls = {"pass": "pass", "fail": "fail"}.get(status, "notrun")
        tol = v.get("tolerance")
        cells = (f'<td class="mono key">{html.escape(str(v.get("key", "")))}'
                 f'<div class="quantity">{fmt(v.get("quantity"))}</div></td>'
                 + "".join(f'<td class="num">{fmt(v.get(k))}</td>'
                           for k in ("published", "simulated", "difference"))
                 + f'<td class="num">{"±" + fmt(tol) if tol is not None else "—"}</td>'
                 + f'<td>{fmt(v.get("unit"))}</td>'
                 + f'<td><span class="badge {cls}">{html.escape(status)}</span></td>'
                 + f'<td class="note">{fmt(v.get("note") or "")}</td>'
                 + f'<td class="src">{fmt(v.get("source"))}</td>')
        rows.append(f'<tr class="{cls}">{cells}</tr>')
    return _table(("Key", "Published", "Simulated", "Difference", "Tolerance", "Unit", "Status",
                   "Note", "Source"), rows, "validation")


def split_summary_key(key: str) -> tuple[str, str, str]:
    """``"phase.quantity_unit"`` → (phase, quantity, unit label); unknown unit → ""."""
    phase, _, rest = str(key).rpartition(".")
    for n_parts in (2, 1):
        head, *tail = rest.rsplit("_", n_parts) if rest.count("_") >= n_parts else (rest,)
        suffix = "_".join(tail).lower()
        if tail and suffix in UNITS:
            return phase or "run", head.replace("_", " "), UNITS[suffix]
    return phase or "run", rest.replace("_", " "), ""


def summary_table(summary: dict) -> str:
    """Every figure of the summary, grouped by phase, each group a table in a multi-column flow
    (the whole summary on the page, no inner scroll box); the full key shows on hover."""
    if not summary:
        return '<p class="empty">No summary quantities for this run.</p>'
    groups: dict[str, list] = {}
    for key, value in summary.items():
        phase, quantity, unit = split_summary_key(key)
        groups.setdefault(phase, []).append((key, quantity, value, unit))
    blocks = []
    for phase, items in groups.items():
        rows = "".join(f'<tr><td title="{html.escape(key)}">{html.escape(q)}</td>'
                       f'<td class="num">{fmt(v)}</td><td>{html.escape(u)}</td></tr>'
                       for key, q, v, u in items)
        blocks.append(f'<div class="group"><table class="summary"><thead><tr class="group">'
                      f'<th colspan="3">{html.escape(phase)}</th></tr></thead><tbody>{rows}'
                      f'</tbody></table></div>')
    return f'<div class="summary-grid">{"".join(blocks)}</div>'
