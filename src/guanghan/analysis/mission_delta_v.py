"""The mission's Δv budget from launch to landing: every manoeuvre the legs report, in flight order,
by the vehicle that flew it.

The legs report each manoeuvre's Δv (m/s, from the masses: Tsiolkovsky on the flown propellant,
gravity and steering losses included) under their own keys; :data:`MANOEUVRES` names the keys that
are single manoeuvres (not totals, designed or impulsive-equivalent values) with a label and the
vehicle. A leg that is not flown leaves its rows out.
"""

from __future__ import annotations

import math
import re

import plotly.graph_objects as go

#: (key pattern, label, vehicle), in flight order; ``{n}`` matches a burn number
MANOEUVRES = (
    (r"transfer\.mcc{n}_delta_v_m_s", "outbound MCC-{n}", "launch stack"),
    (r"[a-z0-9_]+\.loi{n}_delta_v_m_s", "LOI-{n}", "launch stack"),
    (r"orbit_adjustment\.circularisation_delta_v_m_s", "circularisation", "launch stack"),
    (r"orbit_adjustment\.trim_delta_v_m_s", "plane trim", "launch stack"),
    (r"descent\.lowering_delta_v_m_s", "orbit lowering", "lander"),
    (r"descent\.delta_v_m_s", "powered descent", "lander"),
    (r"ascent\.delta_v_m_s", "ascent", "ascender"),
    (r"rendezvous\.phasing_delta_v_m_s", "phasing", "ascender"),
    (r"rendezvous\.proximity_delta_v_m_s", "approach and capture", "orbiter"),
    (r"[a-z0-9_]+\.tei{n}_delta_v_m_s", "TEI-{n}", "orbiter"),
    (r"[a-z0-9_]+\.mcc{n}_delta_v_m_s", "return MCC-{n}", "orbiter"),
)

_COLOURS = {"launch stack": "#4c78a8", "lander": "#f58518", "ascender": "#54a24b", "orbiter": "#b279a2"}


def budget_rows(summary: dict) -> list[tuple[str, str, float]]:
    """(label, vehicle, Δv m/s) of each manoeuvre in ``summary``, in flight order."""
    rows = []
    taken: set[str] = set()
    for pattern, label, vehicle in MANOEUVRES:
        regex = re.compile("^" + pattern.replace("{n}", r"(\d+)") + "$")
        found = []
        for key, value in summary.items():
            m = regex.match(key)
            if m and key not in taken and isinstance(value, (int, float)) and math.isfinite(value):
                found.append((int(m.group(1)) if m.groups() else 0, key, value))
        for n, key, value in sorted(found):
            taken.add(key)
            rows.append((label.replace("{n}", str(n)), vehicle, float(value)))
    return rows


def delta_v_budget_figure(summary: dict) -> go.Figure | None:
    """Horizontal bars of :func:`budget_rows`, coloured by vehicle, with the total; None if the run
    flew no manoeuvre."""
    rows = budget_rows(summary)
    if not rows:
        return None
    fig = go.Figure()
    for vehicle, colour in _COLOURS.items():
        mine = [(label, dv) for label, v, dv in rows if v == vehicle]
        if mine:
            fig.add_trace(go.Bar(y=[r[0] for r in mine], x=[r[1] for r in mine], orientation="h",
                                 name=vehicle, marker_color=colour,
                                 text=[f"{r[1]:,.1f}" for r in mine], textposition="outside",
                                 cliponaxis=False,
                                 hovertemplate="%{y}: %{x:,.2f} m/s<extra>" + vehicle + "</extra>"))
    total = sum(dv for _, _, dv in rows)
    fig.update_layout(title=f"Δv from launch to landing: {total:,.0f} m/s", barmode="stack",
                      xaxis_title="Δv (m/s, from the propellant burnt)", height=120 + 26 * len(rows),
                      yaxis={"categoryorder": "array", "categoryarray": [r[0] for r in rows][::-1]},
                      xaxis_range=[0.0, 1.15 * max(dv for _, _, dv in rows)],   # room for the labels
                      margin={"l": 170, "r": 40, "t": 50, "b": 40}, legend_title_text="vehicle",
                      legend_traceorder="normal")
    return fig
