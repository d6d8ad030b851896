"""Entry-interface (EI) targets and the geometry of an Earth-centred state relative to a landing site.

:class:`EntryTarget` holds what a return aims at (geodetic altitude, flight-path angle, epoch, site,
allowed downrange band); :func:`entry_geometry` measures an Earth-centred J2000 state against it;
:func:`entry_residuals` scales the misses for the targeting's least squares.

Assumptions and limitations
    Flight-path angle and azimuth are measured from the plane normal to the GEOCENTRIC radius (as
    the entry flight does), Earth-relative ("relative") or inertial. Crossrange/downrange are
    great-circle distances on the Earth's mean sphere (IUGG R1): the site's angle out of the plane of
    (r, v_rel) in ITRF93 at EI, and the in-plane angle from EI to the site, positive ahead.

References
    Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), eq. 3-7 and Algorithm 12
    (geodetic coordinates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from guanghan.environment import frames
from guanghan.environment.constants import EARTH_MEAN_RADIUS as R_SPHERE
from guanghan.environment.geodetic import cartesian_from_planetodetic, planetodetic_from_cartesian


@dataclass(frozen=True)
class EntryTarget:
    """EI targets: geodetic altitude (m), FPA (deg, ``fpa_reference`` "relative"/"inertial"),
    epoch (ET s), site geodetic lat/lon (deg), allowed downrange band (km), epoch weight (s)."""

    altitude_m: float
    fpa_deg: float
    et: float
    site_lat_deg: float
    site_lon_deg: float
    downrange_min_km: float
    downrange_max_km: float
    fpa_reference: str = "relative"
    epoch_weight_s: float = 60.0


@dataclass(frozen=True)
class EntryGeometry:
    """Entry-interface state and its geometry with respect to the landing site."""

    et: float
    r_j2000: np.ndarray            # m, Earth-centred
    v_j2000: np.ndarray            # m/s, inertial
    altitude_km: float             # geodetic
    lat_deg: float                 # geodetic
    lon_deg: float
    speed_inertial_m_s: float
    speed_relative_m_s: float
    fpa_inertial_deg: float
    fpa_relative_deg: float
    azimuth_relative_deg: float    # heading of the Earth-relative velocity, clockwise from north
    crossrange_km: float           # site out of the (r, v_rel) plane, + to the left
    downrange_km: float            # EI to the site along the plane, + ahead

    def fpa_deg(self, reference: str) -> float:
        return self.fpa_relative_deg if reference == "relative" else self.fpa_inertial_deg


def site_unit_itrf(lat_deg: float, lon_deg: float) -> np.ndarray:
    """Unit geocentric vector of a geodetic site (ITRF93)."""
    r = cartesian_from_planetodetic(math.radians(lat_deg), math.radians(lon_deg), 0.0)
    return r / np.linalg.norm(r)


def entry_geometry(et: float, r_j2000, v_j2000, site_lat_deg: float, site_lon_deg: float) -> EntryGeometry:
    """EI geometry of an Earth-centred J2000 state (m, m/s) at ``et`` (s) relative to a site."""
    r_j2000, v_j2000 = np.asarray(r_j2000, float), np.asarray(v_j2000, float)
    x = frames.transform_states(np.concatenate([r_j2000, v_j2000]), "J2000", "ITRF93", [et])[0]
    r, v_rel = x[:3], x[3:]
    v_in = frames.rotation("J2000", "ITRF93", [et])[0] @ v_j2000
    lat, lon, h = planetodetic_from_cartesian(r)
    up = r / np.linalg.norm(r)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    n = np.cross(r, v_rel)
    n /= np.linalg.norm(n)
    site = site_unit_itrf(site_lat_deg, site_lon_deg)
    ahead = np.cross(n, up)
    return EntryGeometry(
        float(et), r_j2000, v_j2000, float(h) / 1e3, math.degrees(lat), math.degrees(lon),
        float(np.linalg.norm(v_j2000)), float(np.linalg.norm(v_rel)),
        math.degrees(math.asin(up @ v_in / np.linalg.norm(v_in))),
        math.degrees(math.asin(up @ v_rel / np.linalg.norm(v_rel))),
        math.degrees(math.atan2(v_rel @ east, v_rel @ north)) % 360.0,
        R_SPHERE * math.asin(float(np.clip(site @ n, -1, 1))) / 1e3,
        R_SPHERE * math.atan2(float(site @ ahead), float(site @ up)) / 1e3)


def entry_residuals(geo: EntryGeometry, target: EntryTarget, soft: bool = True) -> np.ndarray:
    """Scaled misses: FPA (0.001°), crossrange (0.1 km), epoch, downrange band (10 km)."""
    res = [(geo.fpa_deg(target.fpa_reference) - target.fpa_deg) / 1e-3, geo.crossrange_km / 0.1]
    if soft:
        dr = geo.downrange_km
        out = max(0.0, target.downrange_min_km - dr) + max(0.0, dr - target.downrange_max_km)
        res += [(geo.et - target.et) / target.epoch_weight_s, out / 10.0]
    else:
        res.append(geo.et - target.et)                           # 1 s
    return np.array(res)
