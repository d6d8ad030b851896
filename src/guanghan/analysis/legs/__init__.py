"""Figures of each leg, registered by leg type and chosen by the run's leg types (``meta["legs"]``:
phase name → leg type), never by event names.

A leg's figure function takes a :class:`FigureInputs` and the phase name and returns
``[(div id, heading, caption, plotly figure), ...]``; one line registers it::

    register_figures("earth_entry", entry_figures)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: figure functions by leg type
LEG_FIGURES: dict[str, Callable] = {}


@dataclass(frozen=True)
class FigureInputs:
    """What leg figures may draw from: events, trajectory (table and columns), series, summary,
    run metadata, phase colours and the decimation bound."""

    events: list
    trajectory: object
    cols: object
    series: dict
    summary: dict
    meta: dict
    colours: dict
    max_points: int


def register_figures(leg_type: str, figures: Callable) -> None:
    """Register the figure function of ``leg_type``."""
    LEG_FIGURES[leg_type] = figures


def leg_figures(inputs: FigureInputs) -> list:
    """The figures of every flown leg that has registered some, in flight order."""
    out = []
    for phase, leg_type in (inputs.meta.get("legs") or {}).items():
        if leg_type in LEG_FIGURES:
            out += LEG_FIGURES[leg_type](inputs, phase)
    return out


from guanghan.analysis.legs import (  # noqa: F401  (register)
    earth_entry,
    earth_moon_transfer,
    lunar_ascent,
    lunar_descent,
    lunar_orbit_adjustment,
    lunar_rendezvous,
    surface_operations,
    trans_earth,
)
