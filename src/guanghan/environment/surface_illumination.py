"""Illumination and Earth visibility at a lunar surface site: Sun and Earth above the local horizon.

A :class:`SurfaceSite` is a point on the Moon (planetocentric latitude, east-positive longitude,
height above the 1 737 400 m reference sphere) in the DE440 mean-Earth/polar-axis frame MOON_ME.
From DE440 (through :mod:`guanghan.environment.spice_kernels`) this module gives, vectorised over
epochs (ET, TDB s past J2000):

* the topocentric direction of the Sun and of the Earth — azimuth (from north, through east),
  elevation above the local horizon plane and distance (:func:`sun_direction`,
  :func:`earth_direction`);
* local solar time from the Sun's hour angle (:func:`local_solar_time_h`);
* sunrise and sunset epochs by root finding on the elevation of the disc centre or of its upper
  limb, optionally above a terrain horizon (:func:`sun_events`);
* the length of the synodic day at the site from successive local noons (:func:`synodic_day_s`);
* the solar irradiance at the site's distance from the Sun (:func:`solar_irradiance_w_m2`);
* the one-way light time from the site to the Earth's centre (:func:`earth_light_time_s`).

Assumptions and limitations
    * The local horizon plane is normal to the radius vector (a spherical Moon: pck00011 gives equal
      radii); slopes are the caller's (see :func:`incidence_cosine`).
    * Directions are geometric (no light-time, no aberration): the apparent disc centre of the Sun
      differs from the geometric one by < 25″ (the Moon–Sun light time is ~500 s, during which the
      relative motion is ~30 km/s → ~1e-4 rad, largely cancelled by stellar aberration), i.e. < 1 min
      in a sunrise epoch, where the Sun climbs ~0.5°/h. For the Earth the effect is < 1″. Neither is
      worth a SPICE call per epoch; this is why the light-time correction is not offered.
    * A terrain horizon is a caller-given profile of horizon elevation against azimuth (e.g. from a
      LOLA DEM), interpolated linearly and periodically in azimuth (:class:`HorizonProfile`).
    * Refraction: none (no atmosphere).

References
    Meeus, J., *Astronomical Algorithms* (2nd ed., 1998), ch. 13 (horizontal coordinates, hour
    angle) and ch. 15 (rising and setting: the apparent upper limb at h0 = −(semi-diameter)).
    Archinal, B. A. et al. (2018), Celest. Mech. Dyn. Astron. 130:22 (lunar frames, sphere 1737.4 km).
    Kopp, G. and Lean, J. L. (2011), GRL 38, L01706: total solar irradiance 1360.8 ± 0.5 W/m².
    Allen's Astrophysical Quantities (4th ed.), §12.2: mean synodic month 29.530 589 d.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from pydantic import Field, model_validator
from scipy.optimize import brentq

from guanghan.config_model import ConfigModel, fail
from guanghan.environment import spice_kernels
from guanghan.environment.constants import (AU, MEAN_SYNODIC_MONTH_S, SOLAR_IRRADIANCE_1AU,
                                            SPEED_OF_LIGHT, SUN_RADIUS)
from guanghan.environment.geodetic import MOON_MEAN_RADIUS, cartesian_from_planetocentric, enu_basis
MOON_FRAME = "MOON_ME"


class SurfaceSite(ConfigModel):
    """A point on the Moon: planetocentric latitude (deg), east-positive longitude (deg), height (m)
    above the 1 737 400 m reference sphere, in MOON_ME."""

    name: str = "site"
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(gt=-180.0, le=360.0)
    height_m: float = Field(default=0.0, ge=-20_000.0, le=20_000.0)

    @classmethod
    def from_site(cls, site, name: str | None = None) -> SurfaceSite:
        """From any lunar site record with ``lat_deg``, ``lon_deg`` and ``altitude_m`` (e.g.
        :class:`guanghan.environment.sites.Site` with ``body == "MOON"``)."""
        body = getattr(site, "body", "MOON")
        if body != "MOON":
            raise ValueError(f"site body = {body!r}: a surface site for illumination must be on the MOON")
        return cls(name=name or getattr(site, "name", "site"), lat_deg=float(site.lat_deg),
                   lon_deg=float(site.lon_deg), height_m=float(getattr(site, "altitude_m", 0.0)))

    @property
    def position_m(self) -> np.ndarray:
        """Body-fixed position (m) in MOON_ME, shape (3,)."""
        return cartesian_from_planetocentric(math.radians(self.lat_deg), math.radians(self.lon_deg),
                                             MOON_MEAN_RADIUS + self.height_m)

    @property
    def enu_matrix(self) -> np.ndarray:
        """Rows: local east, north, up unit vectors in MOON_ME components (3, 3)."""
        return enu_basis(math.radians(self.lat_deg), math.radians(self.lon_deg))


class HorizonProfile(ConfigModel):
    """Terrain horizon: elevation (deg) of the skyline against azimuth (deg from north, through east).

    Azimuths strictly increasing in [0, 360); the profile is interpolated linearly and wraps at 360°.
    """

    azimuth_deg: tuple[float, ...] = Field(min_length=1)
    elevation_deg: tuple[float, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        az, el = np.asarray(self.azimuth_deg), np.asarray(self.elevation_deg)
        if az.size != el.size:
            fail(f"has {el.size} values but azimuth_deg has {az.size}: they must pair up", "elevation_deg",
                 self.elevation_deg)
        if az.min() < 0.0 or az.max() >= 360.0:
            fail("azimuths must lie in [0, 360)", "azimuth_deg", float(az.min() if az.min() < 0 else az.max()))
        if np.any(np.diff(az) <= 0.0):
            fail("azimuths must be strictly increasing", "azimuth_deg", self.azimuth_deg)
        if np.any(np.abs(el) > 90.0):
            fail("elevations must lie in [-90, 90]", "elevation_deg", float(el[np.abs(el) > 90][0]))
        return self

    def elevation_rad(self, azimuth_rad) -> np.ndarray:
        """Horizon elevation (rad) at azimuth(s) (rad), periodic linear interpolation."""
        az = np.degrees(np.asarray(azimuth_rad, float)) % 360.0
        xp = np.asarray(self.azimuth_deg)
        fp = np.asarray(self.elevation_deg)
        return np.radians(np.interp(az, xp, fp, period=360.0))


class Direction(NamedTuple):
    """Topocentric direction: azimuth (rad, from north through east, [0, 2π)), elevation above the
    local horizon plane (rad), distance (m), and the unit vector in local ENU (n, 3)."""

    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    distance_m: np.ndarray
    unit_enu: np.ndarray

    @property
    def azimuth_deg(self) -> np.ndarray:
        return np.degrees(self.azimuth_rad)

    @property
    def elevation_deg(self) -> np.ndarray:
        return np.degrees(self.elevation_rad)


def _ets(ets) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(ets, dtype=float))
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"ets must be finite epochs (ET s), a scalar or a 1-D array; got shape {arr.shape}")
    return arr


def topocentric(site: SurfaceSite, target: str, ets) -> Direction:
    """Direction of a SPICE body (``"SUN"``, ``"EARTH"``) from the site at epochs ``ets`` (ET s)."""
    ets = _ets(ets)
    rel = spice_kernels.body_positions(target, "MOON", MOON_FRAME, ets) - site.position_m
    return direction_from_vectors(site, rel)


def direction_from_vectors(site: SurfaceSite, rel_me: np.ndarray) -> Direction:
    """Direction of vectors (n, 3) (m, MOON_ME components) from the site."""
    enu = np.atleast_2d(rel_me) @ site.enu_matrix.T
    dist = np.linalg.norm(enu, axis=1)
    unit = enu / dist[:, None]
    az = np.mod(np.arctan2(unit[:, 0], unit[:, 1]), 2.0 * math.pi)   # Meeus ch. 13, from north
    el = np.arcsin(np.clip(unit[:, 2], -1.0, 1.0))
    return Direction(az, el, dist, unit)


def sun_direction(site: SurfaceSite, ets) -> Direction:
    """Sun's disc centre seen from the site (geometric; see the module note on light time)."""
    return topocentric(site, "SUN", ets)


def earth_direction(site: SurfaceSite, ets) -> Direction:
    """Earth's centre seen from the site: direct-to-Earth visibility where the elevation > mask."""
    return topocentric(site, "EARTH", ets)


def earth_light_time_s(site: SurfaceSite, ets) -> np.ndarray:
    """One-way geometric light time (s) from the site to the Earth's centre (~1.28 s)."""
    return earth_direction(site, ets).distance_m / SPEED_OF_LIGHT


def solar_irradiance_w_m2(site: SurfaceSite, ets) -> np.ndarray:
    """Solar irradiance (W/m²) at the site: 1361 W/m² × (1 au / Sun distance)² (inverse square)."""
    return SOLAR_IRRADIANCE_1AU * (AU / sun_direction(site, ets).distance_m) ** 2


def sun_angular_radius_rad(distance_m) -> np.ndarray:
    """Apparent semi-diameter (rad) of the Sun at a distance (m): asin(R_sun / d) (~0.267°)."""
    return np.arcsin(SUN_RADIUS / np.asarray(distance_m, float))


def local_solar_time_h(site: SurfaceSite, ets) -> np.ndarray:
    """Local (true) solar time (h, [0, 24)): 12 h + the Sun's hour angle / 15°.

    The hour angle is the site's east longitude minus the sub-solar east longitude (Meeus ch. 13):
    positive in the afternoon, since the Moon turns eastward."""
    ets = _ets(ets)
    sun = spice_kernels.body_positions("SUN", "MOON", MOON_FRAME, ets)
    lon_sun = np.arctan2(sun[:, 1], sun[:, 0])
    hour_angle = np.mod(math.radians(site.lon_deg) - lon_sun + math.pi, 2.0 * math.pi) - math.pi
    return np.mod(12.0 + np.degrees(hour_angle) / 15.0, 24.0)


def incidence_cosine(sun_unit_enu: np.ndarray, normal_enu) -> np.ndarray:
    """cos of the Sun's incidence angle on a surface of unit normal ``normal_enu`` (local ENU),
    zero where the Sun is behind the surface or below the local horizon plane."""
    n = np.asarray(normal_enu, float)
    n = n / np.linalg.norm(n)
    s = np.atleast_2d(sun_unit_enu)
    mu = s @ n
    return np.where((s[:, 2] > 0.0) & (mu > 0.0), mu, 0.0)


def slope_normal_enu(slope_deg: float, aspect_deg: float) -> np.ndarray:
    """Unit normal (ENU) of a surface tilted ``slope_deg`` from horizontal whose down-slope direction
    faces azimuth ``aspect_deg`` (from north through east)."""
    if not 0.0 <= slope_deg <= 90.0:
        raise ValueError(f"slope_deg = {slope_deg} is outside [0, 90]")
    s, a = math.radians(slope_deg), math.radians(aspect_deg)
    return np.array([math.sin(s) * math.sin(a), math.sin(s) * math.cos(a), math.cos(s)])


def sunlit(site: SurfaceSite, ets, horizon: HorizonProfile | None = None, limb: str = "upper") -> np.ndarray:
    """True where any part (``limb="upper"``) or the centre (``"centre"``) of the Sun is above the
    local horizon plane, or above the terrain ``horizon`` if one is given."""
    return _elevation_margin(site, _ets(ets), horizon, limb) > 0.0


def _elevation_margin(site, ets, horizon, limb) -> np.ndarray:
    """Elevation (rad) of the chosen solar point above the horizon (plane or terrain)."""
    if limb not in ("upper", "centre", "center"):
        raise ValueError(f"limb = {limb!r}: use 'upper' or 'centre'")
    d = sun_direction(site, ets)
    el = d.elevation_rad.copy()
    if limb == "upper":
        el += sun_angular_radius_rad(d.distance_m)      # Meeus ch. 15: upper limb at h0 = −semi-diameter
    if horizon is not None:
        el -= horizon.elevation_rad(d.azimuth_rad)
    return el


def sun_events(site: SurfaceSite, start_et: float, end_et: float, *, limb: str = "upper",
               horizon: HorizonProfile | None = None, step_s: float = 3600.0,
               tol_s: float = 0.1) -> list[tuple[float, str]]:
    """Sunrise and sunset epochs (ET s) in [start_et, end_et] as ``(et, "sunrise"|"sunset")``.

    Root of the elevation of the upper limb (centre elevation = −semi-diameter, about −0.27°) or of
    the disc centre (elevation = 0), above the horizon plane or the terrain ``horizon``. The
    elevation is sampled every ``step_s`` (the Sun moves ~0.5°/h, so 1 h cannot miss an event
    unless the terrain has sub-degree notches) and each sign change is refined with Brent's method
    to ``tol_s``."""
    if not end_et > start_et:
        raise ValueError(f"end_et = {end_et} must be after start_et = {start_et} (ET s)")
    if not 0.0 < step_s <= 86400.0:
        raise ValueError(f"step_s = {step_s} must be in (0, 86400] s")
    n = max(2, math.ceil((end_et - start_et) / step_s) + 1)
    grid = np.linspace(start_et, end_et, n)
    margin = _elevation_margin(site, grid, horizon, limb)

    def f(et):
        return float(_elevation_margin(site, np.array([et]), horizon, limb)[0])

    events = []
    for i in np.nonzero(np.sign(margin[:-1]) * np.sign(margin[1:]) < 0)[0]:
        et = brentq(f, grid[i], grid[i + 1], xtol=tol_s)
        events.append((float(et), "sunrise" if margin[i + 1] > margin[i] else "sunset"))
    return events


def local_noons(site: SurfaceSite, start_et: float, end_et: float, step_s: float = 6 * 3600.0) -> list[float]:
    """Epochs (ET s) of local noon (Sun's hour angle = 0) in [start_et, end_et]."""

    def hour_angle(ets):
        lst = local_solar_time_h(site, ets)
        return np.radians((lst - 12.0) * 15.0)

    n = max(2, math.ceil((end_et - start_et) / step_s) + 1)
    grid = np.linspace(start_et, end_et, n)
    h = hour_angle(grid)
    out = []
    for i in range(n - 1):
        if h[i] < 0.0 <= h[i + 1] and h[i + 1] - h[i] < math.pi:      # rising through 0, not the wrap
            out.append(float(brentq(lambda t: float(hour_angle(np.array([t]))[0]), grid[i], grid[i + 1],
                                    xtol=0.1)))
    return out


def synodic_day_s(site: SurfaceSite, et: float) -> float:
    """Length (s) of the solar day at the site: the interval between the two local noons that
    bracket ``et`` (it varies by ~±0.5 d about the 29.53 d mean with the lunar orbit)."""
    noons = local_noons(site, et - 1.2 * MEAN_SYNODIC_MONTH_S, et + 1.2 * MEAN_SYNODIC_MONTH_S)
    before = [t for t in noons if t <= et]
    after = [t for t in noons if t > et]
    if not before or not after:
        raise RuntimeError(f"no local noons bracketing ET {et} s at {site.name}")
    return after[0] - before[-1]
