"""The result of a simulated Earth entry: its time history, events and summary figures.

Downrange and miss are great-circle distances on the Earth's mean sphere (IUGG R1,
:mod:`guanghan.environment.constants`); flight-path angles are measured from the plane normal to
the geocentric radius. Heat load is the time integral of the Sutton–Graves stagnation-point flux
(:mod:`guanghan.dynamics.aerothermal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from guanghan.dynamics import aerothermal
from guanghan.environment import spice_kernels
from guanghan.environment.geodetic import great_circle_distance
from guanghan.environment.sites import Site


@dataclass
class EntryResult:
    """Time history (arrays, SI), events (list of dicts) and summary figures (dict)."""

    et: np.ndarray
    state_itrf93: np.ndarray         # (n, 6) m, m/s (Earth-relative velocity)
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_km: np.ndarray
    bank_deg: np.ndarray
    g_load: np.ndarray
    heat_flux_w_m2: np.ndarray
    mach: np.ndarray
    phase: np.ndarray                # str labels
    events: list[dict]
    summary: dict
    guidance_calls: int = 0          # predictor runs, for cost accounting

    @cached_property
    def state_j2000(self) -> np.ndarray:
        """(n, 6) Earth-centred J2000 states (m, m/s): SPICE's full ITRF93 → J2000 state
        transformation at every epoch, made when first asked for (a campaign sample asks only
        for the last, :meth:`final_state_j2000`)."""
        xf = spice_kernels.state_transforms("ITRF93", "J2000", self.et)
        return np.einsum("nij,nj->ni", xf, self.state_itrf93)

    def final_state_j2000(self) -> np.ndarray:
        """(6,) J2000 state (m, m/s) at touchdown."""
        if "state_j2000" in self.__dict__:
            return self.state_j2000[-1]
        xf = spice_kernels.state_transforms("ITRF93", "J2000", self.et[-1:])[0]
        return xf @ self.state_itrf93[-1]


def entry_summary(res: EntryResult, entry, target: Site | None, t_entry, q) -> dict:
    """Summary figures of ``res``: the interface (from ``entry``, J2000), the first dip, skip,
    peaks, heat load, downrange, landing, and the miss from ``target`` (None without a site).
    ``t_entry`` (s) are the times before the drogue, ``q`` (W/m²) the heat flux over them."""
    r, v = entry.r, entry.v
    rel = res.state_itrf93[0]
    fpa = lambda rr, vv: float(np.degrees(np.arcsin(rr @ vv / np.linalg.norm(rr) / np.linalg.norm(vv))))  # noqa: E731
    skip = res.phase == "skip"
    first = res.phase == "first_entry"
    lat0, lon0 = np.radians(res.lat_deg[0]), np.radians(res.lon_deg[0])
    lat1, lon1 = np.radians(res.lat_deg[-1]), np.radians(res.lon_deg[-1])
    entry_part = slice(0, len(t_entry))
    miss = None if target is None else float(great_circle_distance(
        lat1, lon1, np.radians(target.lat_deg), np.radians(target.lon_deg))) / 1e3
    return {
        "interface_utc": spice_kernels.et_to_utc(res.et[0]),
        "interface_altitude_km": float(res.altitude_km[0]),
        "interface_speed_inertial_m_s": float(np.linalg.norm(v)),
        "interface_fpa_inertial_deg": fpa(r, v),
        "interface_speed_relative_m_s": float(np.linalg.norm(rel[3:])),
        "interface_fpa_relative_deg": fpa(rel[:3], rel[3:]),
        "first_dip_min_altitude_km": float(res.altitude_km[first].min()),
        "skip_apogee_km": float(res.altitude_km[skip].max()) if skip.any() else None,
        "peak_g": float(res.g_load[entry_part].max()),
        "peak_heat_flux_w_m2": float(q.max()),
        "heat_load_j_m2": aerothermal.heat_load(t_entry, q),
        "downrange_km": float(great_circle_distance(lat0, lon0, lat1, lon1)) / 1e3,
        "landing_lat_deg": float(res.lat_deg[-1]),
        "landing_lon_deg": float(res.lon_deg[-1]),
        "miss_km": miss,
        "drogue_utc": spice_kernels.et_to_utc(res.et[len(t_entry) - 1]),
        "landing_utc": spice_kernels.et_to_utc(res.et[-1]),
        "time_of_flight_s": float(res.et[-1] - res.et[0]),
        "bank_reversals": sum(e["event"] == "bank_reversal" for e in res.events),
        "skips": sum(e["event"] == "skip_exit" for e in res.events),   # climbs out of the sensible atmosphere
    }
