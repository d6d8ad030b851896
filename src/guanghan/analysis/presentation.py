"""A run for people in a notebook: its figures by name and an HTML summary.

``RunResult.figures()`` and ``RunResult._repr_html_`` (what Jupyter shows for a run left as the
last expression of a cell) call these. The figures are the report's
(:func:`guanghan.analysis.report.build_figures`), keyed by their div id without ``fig-``
(``"altitude"``, ``"earth-moon"``, ``"milestones"``, ``"entry-profile-entry"``); each is a plotly
``Figure`` to show, restyle or save.

Assumptions and limitations
- The HTML summary carries plotly.js (4.8 MB) once so that it draws offline, in any notebook
  front end that runs the output's scripts (JupyterLab and Notebook do for trusted notebooks);
  it shows :data:`KEY_FIGURES` only; ``result.figures()`` has them all.
"""

from __future__ import annotations

import html
import uuid

import plotly.offline

from guanghan.analysis import report as R
from guanghan.analysis import report_tables as T
from guanghan.analysis.mission_timeline import milestones
from guanghan.analysis.validation import validation_rows

__all__ = ["figures", "repr_html", "validation", "KEY_FIGURES"]

#: the figures the HTML summary shows, in order, when the run has them
KEY_FIGURES = ("milestones", "earth-moon", "altitude")


def figures(result, max_points: int | None = None) -> dict:
    """Figure name → plotly ``Figure`` for every figure of the run's report."""
    kwargs = {} if max_points is None else {"max_points": max_points}
    built = R.build_figures(result.events, result.trajectory, result.meta, series=result.series,
                            summary=result.summary, **kwargs)
    return {fid.removeprefix("fig-"): fig for fid, _heading, _caption, fig in built}


def validation(result) -> list[dict]:
    """The validation rows of the run's scenario (none when the run does not carry it)."""
    if getattr(result, "scenario", None) is None:
        return []
    return validation_rows(result.scenario, result.summary)


def repr_html(result) -> str:
    """The verdict, the key numbers, the published-vs-simulated milestones and the key figures."""
    rows_v = validation(result)
    verdict = result.verdict(rows_v)
    cls = "#1b7f3b" if result.completed else "#c62828"
    events = sorted(result.events, key=lambda e: str(e.get("utc", "")))
    facts = [(label, value) for label, value, _foot in
             R._cards(events, R.F.track_columns(result.trajectory), rows_v)]
    facts_html = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{v}</td></tr>"
                         for k, v in facts)
    rows = milestones(result.meta.get("timeline") or {}, result.events, result.meta.get("legs") or {})
    figs = figures(result)
    shown = [(name, figs[name]) for name in KEY_FIGURES if name in figs]
    store = R.ImageStore()
    tag = uuid.uuid4().hex[:8]                  # div ids unique across a notebook's outputs
    parts = [R._figure_html((f"gh-{tag}-{name}", name, "", fig), store) for name, fig in shown]
    more = ", ".join(sorted(set(figs) - {n for n, _ in shown}))
    return (f"<div class='guanghan-run'><h3 style='margin:4px 0'>{html.escape(result.scenario_name)}"
            f"</h3><p style='color:{cls};font-weight:600'>{html.escape(verdict)}</p>"
            f"<table>{facts_html}</table>"
            f"<details><summary>Published vs simulated timeline</summary>{T.milestone_table(rows)}"
            f"</details><script>{plotly.offline.get_plotlyjs()}</script>{store.script()}"
            + "".join(parts)
            + f"<p style='color:#5b6776'>More in <code>result.figures()</code>: "
              f"{html.escape(more)}.</p></div>")
