"""Communication windows of a lunar surface site: through a relay satellite, or direct to Earth.

A relay link is open when (1) the relay is above the site's elevation mask (and above the terrain
horizon, if one is given), (2) the line from the relay to the Earth's centre clears the Moon, and
(3) if ground stations are given, at least one sees the relay above its own elevation mask. A
direct-to-Earth (DTE) link is open when the Earth's centre is above the site's mask and, with
stations, one sees the site above its mask. Each constraint is a continuous margin (rad); the link
margin is their minimum, sampled on the caller's epochs, and window edges are the zero crossings
found by linear interpolation between samples. The coverage fraction is the summed window length
over the span.

Ground stations are geodetic points on the Earth (WGS-84-like spheroid of ``pck00011``) in ITRF93,
rotated to J2000 with the NAIF Earth orientation kernels.

Assumptions and limitations
    * Geometric directions (no light time: 1.3 s shifts a window edge by ≲ 1 s), no refraction at
      the ground stations (≲ 0.5° near 5° elevation).
    * Occultation of the relay–Earth line by a sphere of the Moon's mean radius (the site mask
      handles local terrain); no occultation of the Earth–relay line by the Earth itself.
    * Window edges are as good as the sampling: a window shorter than the sample spacing can be
      missed. Sample at ≤ 60 s for a 24 h relay orbit.

References
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications* (4th ed.), §4.4 (site-track
    elevation, eq. 4-4 SEZ form) and Algorithm 51 (sight between two satellites past a sphere).
    Montenbruck, O. and Gill, E., *Satellite Orbits* (2000), §6.4 (ground station visibility).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment import frames, spice_kernels
from guanghan.environment import surface_illumination as illum
from guanghan.environment.geodetic import MOON_MEAN_RADIUS, cartesian_from_planetodetic

MOON_ME = "MOON_ME"


class GroundStation(ConfigModel):
    """An Earth station: planetodetic latitude, east longitude (deg), height (m), elevation mask."""

    name: str
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(gt=-180.0, le=360.0)
    height_m: float = Field(default=0.0, ge=-500.0, le=9000.0)
    min_elevation_deg: float = Field(default=10.0, ge=-5.0, le=90.0)

    @property
    def position_itrf93_m(self) -> np.ndarray:
        return cartesian_from_planetodetic(math.radians(self.lat_deg), math.radians(self.lon_deg), self.height_m)

    @property
    def up_itrf93(self) -> np.ndarray:
        """Unit ellipsoid normal (local vertical) in ITRF93."""
        la, lo = math.radians(self.lat_deg), math.radians(self.lon_deg)
        return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])


@dataclass(frozen=True)
class LinkWindows:
    """Sampled link margin (rad; open where > 0), windows (start, end ET s), coverage fraction, and
    the ranges (m) of the link's legs at each sample."""

    ets: np.ndarray
    margin_rad: np.ndarray
    windows: list[tuple[float, float]]
    coverage_fraction: float
    range_m: np.ndarray                         # site → relay (relay link) or site → Earth (DTE)
    earth_range_m: np.ndarray | None = None     # relay → Earth centre (relay link)
    details: dict = field(default_factory=dict)

    @property
    def visible(self) -> np.ndarray:
        return self.margin_rad > 0.0


def windows_from_margin(ets: np.ndarray, margin: np.ndarray) -> tuple[list[tuple[float, float]], float]:
    """Intervals where ``margin`` > 0 (edges linearly interpolated) and their fraction of the span."""
    ets, margin = np.asarray(ets, float), np.asarray(margin, float)
    out: list[tuple[float, float]] = []
    start = ets[0] if margin[0] > 0.0 else None
    for i in range(ets.size - 1):
        m0, m1 = margin[i], margin[i + 1]
        if (m0 > 0.0) == (m1 > 0.0):
            continue
        t = ets[i] + (ets[i + 1] - ets[i]) * m0 / (m0 - m1)
        if m1 > 0.0:
            start = t
        else:
            out.append((float(start), float(t)))
            start = None
    if start is not None:
        out.append((float(start), float(ets[-1])))
    span = ets[-1] - ets[0]
    return out, (sum(e - s for s, e in out) / span if span > 0 else float(margin[0] > 0.0))


def _check_ets(ets) -> np.ndarray:
    ets = np.atleast_1d(np.asarray(ets, float))
    if ets.ndim != 1 or ets.size < 2 or np.any(np.diff(ets) <= 0.0):
        raise ValueError("ets must be a strictly increasing 1-D array of at least 2 epochs (ET s)")
    return ets


def _site_margin(site, rel_me, mask_deg, horizon):
    if not -10.0 <= mask_deg <= 90.0:
        raise ValueError(f"site mask_deg = {mask_deg} is outside [-10, 90]")
    d = illum.direction_from_vectors(site, rel_me)
    margin = d.elevation_rad - math.radians(mask_deg)
    if horizon is not None:
        margin = np.minimum(margin, d.elevation_rad - horizon.elevation_rad(d.azimuth_rad))
    return margin, d.distance_m


def _stations_margin(stations, target_from_earth_j2000, ets) -> np.ndarray:
    """Best station's elevation above its mask (rad) for targets given from the Earth's centre."""
    rot = frames.rotation("ITRF93", "J2000", ets)
    best = np.full(ets.size, -np.inf)
    for st in stations:
        pos = np.einsum("nij,j->ni", rot, st.position_itrf93_m)
        up = np.einsum("nij,j->ni", rot, st.up_itrf93)
        los = target_from_earth_j2000 - pos
        el = np.arcsin(np.clip(np.einsum("ij,ij->i", los, up) / np.linalg.norm(los, axis=1), -1.0, 1.0))
        best = np.maximum(best, el - math.radians(st.min_elevation_deg))
    return best


def link_windows(site: illum.SurfaceSite, relay_positions: Callable[[np.ndarray], np.ndarray] | Trajectory,
                 ground_stations: Sequence[GroundStation], ets, *, site_mask_deg: float = 10.0,
                 horizon: illum.HorizonProfile | None = None,
                 grazing_altitude_m: float = 0.0) -> LinkWindows:
    """Site–relay–Earth windows. ``relay_positions`` is the relay's Moon-centred J2000
    :class:`~guanghan.dynamics.trajectory.Trajectory`, or a function of ``ets`` returning those
    positions (n, 3) (m); stations may be empty (then only the Earth's occultation by the Moon is
    checked)."""
    ets = _check_ets(ets)
    if isinstance(relay_positions, Trajectory):
        if relay_positions.frame != "J2000" or relay_positions.body != "MOON":
            raise ValueError(f"relay trajectory is {relay_positions.body}-centred in {relay_positions.frame}; "
                             f"link_windows needs MOON-centred J2000")
        relay = relay_positions.states(ets)[:, :3]
    else:
        relay = np.asarray(relay_positions(ets), float)
    if relay.shape != (ets.size, 3):
        raise ValueError(f"relay_positions returned shape {relay.shape}; expected ({ets.size}, 3)")
    to_me = frames.rotation("J2000", MOON_ME, ets)
    relay_me = np.einsum("nij,nj->ni", to_me, relay)
    up_margin, rng = _site_margin(site, relay_me - site.position_m, site_mask_deg, horizon)
    earth = spice_kernels.body_positions("EARTH", "MOON", "J2000", ets)       # Moon → Earth
    d = earth - relay                                                           # relay → Earth
    p = np.clip(-np.einsum("ij,ij->i", relay, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
    miss = np.linalg.norm(relay + p[:, None] * d, axis=1)                       # closest approach to the Moon
    occ_margin = (miss - MOON_MEAN_RADIUS - grazing_altitude_m) / np.linalg.norm(relay, axis=1)
    margin = np.minimum(up_margin, occ_margin)
    details = {"site_margin_rad": up_margin, "earth_clear_margin": occ_margin}
    if ground_stations:
        st = _stations_margin(ground_stations, relay - earth, ets)            # Earth → relay
        margin = np.minimum(margin, st)
        details["station_margin_rad"] = st
    wins, frac = windows_from_margin(ets, margin)
    return LinkWindows(ets, margin, wins, frac, rng, np.linalg.norm(d, axis=1), details)


def direct_to_earth_windows(site: illum.SurfaceSite, ground_stations: Sequence[GroundStation], ets, *,
                            site_mask_deg: float = 10.0,
                            horizon: illum.HorizonProfile | None = None) -> LinkWindows:
    """Site–Earth windows: the Earth's centre above the site's mask (and terrain), and, with
    stations, one of them seeing the site above its own mask."""
    ets = _check_ets(ets)
    earth_me = spice_kernels.body_positions("EARTH", "MOON", MOON_ME, ets)
    up_margin, rng = _site_margin(site, earth_me - site.position_m, site_mask_deg, horizon)
    margin = up_margin
    details = {"site_margin_rad": up_margin}
    if ground_stations:
        to_j2000 = frames.rotation(MOON_ME, "J2000", ets)
        site_j2000 = np.einsum("nij,j->ni", to_j2000, site.position_m)
        moon = spice_kernels.body_positions("MOON", "EARTH", "J2000", ets)
        st = _stations_margin(ground_stations, moon + site_j2000, ets)
        margin = np.minimum(margin, st)
        details["station_margin_rad"] = st
    wins, frac = windows_from_margin(ets, margin)
    return LinkWindows(ets, margin, wins, frac, rng, None, details)
