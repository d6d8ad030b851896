"""Figures of the trans-Earth leg: the return in the Earth–Moon rotating frame, distances from the
Earth and the Moon, and the Δv budget."""

from __future__ import annotations

from guanghan.analysis import return_figures as RF
from guanghan.analysis.legs import FigureInputs, register_figures


def trans_earth_figures(inp: FigureInputs, phase: str) -> list:
    slug = phase.replace("_", "-")
    events = [e for e in inp.events if e.get("phase") == phase]
    if not events:
        return []
    orbiter = inp.series.get(f"{phase}.orbiter")
    return [
        (f"fig-return-overview-{slug}", "Trans-Earth trajectory",
         "The return in the Earth–Moon rotating frame (x from the Earth to the Moon, z along "
         "the Moon's orbital angular momentum), plan and side views; Earth and Moon discs to "
         "scale, the Moon where it is at the start; the orbiter's divert dashed.",
         RF.return_overview_figure(inp.trajectory, orbiter, inp.events, [phase], inp.max_points)),
        (f"fig-return-range-{slug}", "Distance from the Earth and the Moon",
         "Log distance against hours since TEI-1; dotted lines mark the burns, the "
         "sphere-of-influence switch, separation and the entry interface.",
         RF.return_range_figure(inp.trajectory, inp.events, [phase], inp.max_points)),
        (f"fig-return-dv-{slug}", "Δv budget of the return",
         "TEI burns from the propellant used (Isp g0 ln m0/m1), midcourse corrections and "
         "the orbiter's divert from their events.", RF.delta_v_budget_figure(inp.summary, inp.events)),
    ]


register_figures("trans_earth", trans_earth_figures)
