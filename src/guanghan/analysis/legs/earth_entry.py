"""Figures of the Earth-entry leg: entry profile, bank/load/heating histories, regional ground track."""

from __future__ import annotations

from guanghan.analysis import entry_figures as EF
from guanghan.analysis.legs import FigureInputs, register_figures


def earth_entry_figures(inp: FigureInputs, phase: str) -> list:
    table = inp.series.get(f"{phase}.entry")
    if table is None or table.num_rows == 0:
        return []
    slug = phase.replace("_", "-")
    sites = list(inp.meta.get("sites") or [])
    return [
        (f"fig-entry-profile-{slug}", "Entry profile", "Altitude against downrange and "
         "time from the entry interface, coloured by guidance regime: first entry, skip "
         "(above the sensible atmosphere), second entry, final phase, bank held after the "
         "guidance ends, canopies.",
         EF.entry_profile_figure(table)),
        (f"fig-entry-loads-{slug}", "Entry bank angle, load and heating",
         "Flown bank angle (sign changes are bank reversals), sensed load with the "
         "scenario's limit (dashed), Sutton–Graves stagnation-point heat flux.",
         EF.entry_loads_figure(table, (inp.meta.get("max_g") or {}).get(phase))),
        (f"fig-entry-track-{slug}", "Entry ground track over the landing region",
         "Ground track from the entry interface to touchdown, zoomed on the region; the "
         "star is the aim point.", EF.regional_track_figure(inp.cols, "EARTH", sites, inp.colours)),
    ]


register_figures("earth_entry", earth_entry_figures)
