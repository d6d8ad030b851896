"""The mission's published timeline against the simulated one.

A scenario's ``[timeline]`` lists published epochs (``touchdown_utc = "2020-12-01T15:11:00Z"``).
Each is matched to the first event of its simulated counterpart in a phase of the leg type that
flies it (``touchdown`` in a ``lunar_descent`` phase); :func:`milestones` gives one row per
published epoch with the simulated epoch, the difference, the phase, or why there is none:

- the leg exists in Guanghan but the run has no phase of that type (``not simulated: no
  lunar_ascent leg in this run``);
- Guanghan does not fly that part of the mission (the launch vehicle's ascent: a transfer leg
  starts at its designed injection; a ground operation: ``not simulated: …``);
- the run's leg does not log that event (a failed leg, or a milestone no leg models, such as a
  navigation upload from the ground).

Assumptions and limitations
- The matching is by name, from the table :data:`COUNTERPARTS` (published name → leg type and
  event kind); a published name it does not know is shown as "no simulated counterpart". It is
  vocabulary of Guanghan's own event names, not mission data: every packaged scenario's names
  are in it (tested).
- The first event of that kind in the first phase of that leg type is taken; a leg type flown
  twice in a run matches its first phase only.
- Differences are in UTC seconds (simulated − published), published epochs being minute-rounded
  in most sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from guanghan.analysis import figures as F

__all__ = ["COUNTERPARTS", "NOT_FLOWN", "Milestone", "milestones", "milestone_figure",
           "format_difference"]

#: published milestone (timeline key without ``_utc``) → (leg type, event kinds, first found wins);
#: ``{n}`` is the milestone's number (``tei_2`` → ``tei2_start``)
COUNTERPARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "separation": ("earth_moon_transfer", ("injection",)),            # from the launch vehicle
    "midcourse_correction_{n}": ("earth_moon_transfer", ("mcc{n}",)),
    "loi": ("earth_moon_transfer", ("loi1_start",)),
    "loi_{n}": ("earth_moon_transfer", ("loi{n}_start",)),
    "near_moon_braking": ("earth_moon_transfer", ("loi1_start",)),
    "lander_separation": ("lunar_descent", ("separation",)),
    "powered_descent_start": ("lunar_descent", ("powered_descent_start",)),
    "touchdown": ("lunar_descent", ("touchdown",)),
    "drill_sample_sealed": ("surface_operations", ("core_packaging_end",)),
    "sampling_complete": ("surface_operations", ("sealing_end",)),
    "ascent_ignition": ("lunar_ascent", ("liftoff",)),
    "docking": ("lunar_rendezvous", ("docking", "capture")),
    "sample_transfer": ("lunar_rendezvous", ("sample_transfer",)),
    "sample_transfer_complete": ("lunar_rendezvous", ("sample_transfer",)),
    "ascender_undocking": ("lunar_rendezvous", ("undocking",)),
    "ascender_deorbit": ("lunar_rendezvous", ("deorbit_burn",)),
    "ascender_impact": ("lunar_rendezvous", ("impact",)),
    "tei": ("trans_earth", ("tei1_start",)),
    "tei_{n}": ("trans_earth", ("tei{n}_start",)),
    "trans_earth_correction_{n}": ("trans_earth", ("mcc{n}",)),
    "returner_separation": ("trans_earth", ("separation",)),
    "entry_interface": ("earth_entry", ("entry_interface",)),
    "earth_landing": ("earth_entry", ("touchdown",)),
}
#: published milestones of mission parts Guanghan has no leg for (pattern → what part)
NOT_FLOWN: dict[str, str] = {
    r"launch": "the launch vehicle's ascent (a transfer leg starts at its designed injection)",
    r"\w+_launch": "a launch Guanghan does not fly",
    r"navigation_upload": "a ground operation Guanghan does not model",
}


@dataclass(frozen=True)
class Milestone:
    """One published epoch and its simulated counterpart (``simulated`` None when there is none;
    ``note`` says why)."""

    name: str                       # timeline key without _utc
    published_utc: str
    simulated_utc: str | None
    difference_s: float | None      # simulated − published (UTC s)
    phase: str | None
    event: str | None
    note: str

    @property
    def simulated(self) -> bool:
        return self.simulated_utc is not None


def _counterpart(name: str) -> tuple[str, tuple[str, ...]] | None:
    if name in COUNTERPARTS:
        return COUNTERPARTS[name]
    for pattern, (leg, kinds) in COUNTERPARTS.items():
        if "{n}" in pattern:
            m = re.fullmatch(pattern.replace("{n}", r"(\d+)"), name)
            if m:
                return leg, tuple(k.replace("{n}", m.group(1)) for k in kinds)
    return None


def _seconds(a: str, b: str) -> float | None:
    ta, tb = F.parse_utc(a), F.parse_utc(b)
    if ta is None or tb is None:
        return None
    return float((ta - tb) / np.timedelta64(1, "ms")) / 1e3


def milestones(timeline: dict[str, str], events: list[dict], legs: dict[str, str]) -> list[Milestone]:
    """One :class:`Milestone` per published epoch of ``timeline`` (``<name>_utc`` → UTC), in
    published order; ``legs`` maps the run's phase names to leg types (``meta["legs"]``)."""
    rows = []
    for key, published in sorted((timeline or {}).items(), key=lambda kv: str(kv[1])):
        name = key.removesuffix("_utc")
        found = _counterpart(name)
        if found is None:
            part = next((why for pat, why in NOT_FLOWN.items() if re.fullmatch(pat, name)), None)
            note = f"not simulated: {part}" if part else "no simulated counterpart"
            rows.append(Milestone(name, str(published), None, None, None, None, note))
            continue
        leg, kinds = found
        phases = [p for p, t in (legs or {}).items() if t == leg]
        if not phases:
            rows.append(Milestone(name, str(published), None, None, None, None,
                                  f"not simulated: no {leg} leg in this run"))
            continue
        hit = None
        for kind in kinds:
            hit = next((e for e in events or [] if e.get("phase") == phases[0]
                        and e.get("event") == kind and e.get("utc")), None)
            if hit:
                break
        if hit is None:
            rows.append(Milestone(name, str(published), None, None, phases[0], kinds[0],
                                  f"no {kinds[0]} event in phase {phases[0]} (leg failed or "
                                  "ended before it)"))
            continue
        diff = _seconds(hit["utc"], str(published))
        rows.append(Milestone(name, str(published), str(hit["utc"]), diff, phases[0],
                              str(hit["event"]), ""))
    return rows


def format_difference(seconds: float | None) -> str:
    """``+1 min 31 s``, ``−0.02 s``, ``+2 h 05 min`` (simulated − published)."""
    if seconds is None or not np.isfinite(seconds):
        return "—"
    sign = "+" if seconds >= 0 else "−"
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.2f} s" if s < 10 else f"{sign}{s:.0f} s"
    if s < 3600:
        return f"{sign}{int(s // 60)} min {int(round(s % 60)):02d} s"
    if s < 86400:
        return f"{sign}{int(s // 3600)} h {int(round(s % 3600 / 60)):02d} min"
    return f"{sign}{s / 86400:.1f} d"


def _unsimulated_spans(rows: list[Milestone], spans: list[tuple]) -> list[tuple]:
    """(start, end) of the published span no simulated phase covers, from the first published
    epoch to the first phase start and between phases (gaps of more than an hour); a phase
    covers its trajectory and its simulated milestones (a leg's events may outlast its track)."""
    times = [F.parse_utc(m.published_utc) for m in rows]
    times = [t for t in times if t is not None]
    if not spans or not times:
        return []
    last = {}
    for m in rows:
        if m.simulated and F.parse_utc(m.simulated_utc) is not None:
            last[m.phase] = max(last.get(m.phase, F.parse_utc(m.simulated_utc)),
                                F.parse_utc(m.simulated_utc))
    out, cursor = [], min(times)
    for phase, t0, t1 in spans:
        t1 = max(t1, last.get(phase, t1))
        if t0 - cursor > np.timedelta64(1, "h"):
            out.append((cursor, t0))
        cursor = max(cursor, t1)
    if max(times) - cursor > np.timedelta64(1, "h"):
        out.append((cursor, max(times)))
    return out


def milestone_figure(rows: list[Milestone], events: list[dict], cols: F.TrackColumns,
                     colours: dict[str, str]) -> go.Figure:
    """Published (open circles) and simulated (filled diamonds) epochs of each milestone on one
    row each, joined by a line; the simulated phases as bars on top, and the stretches no leg
    simulates shaded and labelled."""
    spans = F.phase_spans(events, cols)
    fig = go.Figure()
    for phase, t0, t1 in spans:
        fig.add_trace(go.Scatter(x=[t0, t1], y=["simulated legs"] * 2, mode="lines", name=phase,
                                 legendgroup=phase, line=dict(color=colours.get(phase, "#555"), width=14),
                                 hovertemplate=f"<b>{phase}</b><br>{t0} → {t1} UTC<extra></extra>"))
    labels = [m.name.replace("_", " ") for m in rows]
    pub = [F.parse_utc(m.published_utc) for m in rows]
    fig.add_trace(go.Scatter(
        x=pub, y=labels, mode="markers", name="published",
        marker=dict(symbol="circle-open", size=11, color="#1d2733", line=dict(width=2)),
        text=[f"<b>{lab}</b><br>published {m.published_utc}<br>{m.note or ''}"
              for lab, m in zip(labels, rows, strict=True)], hovertemplate="%{text}<extra></extra>"))
    sim = [(lab, m) for lab, m in zip(labels, rows, strict=True) if m.simulated]
    if sim:
        fig.add_trace(go.Scatter(
            x=[F.parse_utc(m.simulated_utc) for _, m in sim], y=[lab for lab, _ in sim],
            mode="markers", name="simulated",
            marker=dict(symbol="diamond", size=10,
                        color=[colours.get(m.phase, "#1f5fa8") for _, m in sim],
                        line=dict(width=0.5, color="#1d2733")),
            text=[f"<b>{lab}</b><br>simulated {m.simulated_utc} ({m.phase}: {m.event})<br>"
                  f"published {m.published_utc}<br>difference {format_difference(m.difference_s)}"
                  for lab, m in sim], hovertemplate="%{text}<extra></extra>"))
    missing = [(lab, m) for lab, m in zip(labels, rows, strict=True) if not m.simulated]
    if missing:
        fig.add_trace(go.Scatter(
            x=[F.parse_utc(m.published_utc) for _, m in missing], y=[lab for lab, _ in missing],
            mode="text", name="not simulated", showlegend=False, textposition="middle right",
            text=["   " + m.note for _, m in missing], textfont=dict(color="#7b8794", size=11),
            hoverinfo="skip"))
    shapes = [dict(type="rect", xref="x", yref="paper", x0=a, x1=b, y0=0, y1=1, layer="below",
                   fillcolor="rgba(123,135,148,0.12)", line_width=0)
              for a, b in _unsimulated_spans(rows, spans)]
    for a, b in _unsimulated_spans(rows, spans):
        fig.add_annotation(x=a + (b - a) / 2, y=1.0, yref="paper", yanchor="bottom",
                           text="not simulated", showarrow=False,
                           font=dict(color="#5b6776", size=11))
    fig.update_layout(shapes=shapes)
    order = ["simulated legs"] + labels
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(order)), showgrid=True)
    fig.update_xaxes(title_text="UTC")
    fig = F._styled(fig, 160 + 26 * len(order))
    fig.update_layout(legend=dict(y=1.06))
    return fig
