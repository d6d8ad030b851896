"""Figures of the Earth-entry leg: entry profile, bank/load/heating histories, the regional ground
track and the landing area zoomed around the aim point."""

from __future__ import annotations

import numpy as np

from guanghan.analysis import entry_figures as EF
from guanghan.analysis.legs import FigureInputs, register_figures


def _aim_site(inp: FigureInputs, phase: str, touchdown) -> dict | None:
    """The phase's aim site (``meta["phase_sites"]``), else the Earth site nearest the touchdown."""
    sites = [s for s in inp.meta.get("sites") or [] if str(s.get("body", "")).upper() == "EARTH"]
    name = (inp.meta.get("phase_sites") or {}).get(phase)
    named = [s for s in sites if s.get("name") == name]
    if named:
        return named[0]
    if not sites or touchdown is None:
        return None
    return min(sites, key=lambda s: np.hypot(s["lat_deg"] - touchdown[0],
                                             (s["lon_deg"] - touchdown[1]) * np.cos(np.radians(touchdown[0]))))


def _touchdown(inp: FigureInputs, phase: str):
    hits = [e for e in inp.events if e.get("phase") == phase and e.get("event") == "touchdown"]
    details = hits[-1].get("details") if hits else None
    if isinstance(details, dict) and "lat_deg" in details and "lon_deg" in details:
        return float(details["lat_deg"]), float(details["lon_deg"])
    return None


def earth_entry_figures(inp: FigureInputs, phase: str) -> list:
    table = inp.series.get(f"{phase}.entry")
    if table is None or table.num_rows == 0:
        return []
    slug = phase.replace("_", "-")
    sites = list(inp.meta.get("sites") or [])
    out = [
        (f"fig-entry-profile-{slug}", "Entry profile", "Altitude against downrange and "
         "time from the entry interface, coloured by guidance regime: first entry, skip "
         "(above the sensible atmosphere), second entry, final phase, bank held after the "
         "guidance ends, canopies.",
         EF.entry_profile_figure(table)),
        (f"fig-entry-loads-{slug}", "Entry bank angle, load and heating",
         "Flown bank angle (sign changes are bank reversals), sensed load with the "
         "scenario's limit (dashed), Sutton–Graves stagnation-point heat flux.",
         EF.entry_loads_figure(table, (inp.meta.get("max_g") or {}).get(phase))),
    ]
    on_track = (inp.cols.body == "EARTH") & (inp.cols.phase == phase)
    if not np.isfinite(inp.cols.lat_deg[on_track]).any():
        return out
    out.append((f"fig-entry-track-{slug}", "Entry ground track over the landing region",
                "Ground track of this leg from the entry interface to touchdown, zoomed on it "
                "(5° margin); the star is the aim point.",
                EF.regional_track_figure(inp.cols, "EARTH", sites, inp.colours, phases=[phase])))
    touchdown = _touchdown(inp, phase)
    site = _aim_site(inp, phase, touchdown)
    if site is not None:
        out.append((f"fig-earth-landing-{slug}", "Earth landing area",
                    f"The end of the entry in km east and north of the aim point "
                    f"({site.get('name')}, {site['lat_deg']:.3f}°, {site['lon_deg']:.3f}°), "
                    "coloured by altitude, under the canopies to the touchdown (star); the dotted "
                    "circle is the miss distance. Local tangent plane on the mean sphere.",
                    EF.landing_area_figure(inp.cols, site, touchdown, phases=[phase])))
    return out


register_figures("earth_entry", earth_entry_figures)
