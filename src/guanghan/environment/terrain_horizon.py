"""The terrain horizon of a lunar surface site from the global DEM: the elevation of the skyline
against azimuth, for sunrise/sunset, Earth and relay visibility over real relief.

Along each azimuth the DEM (:mod:`guanghan.environment.lunar_dem`, bilinear) is sampled on the
great circle from the site out to ``max_distance_m``; a terrain point at central angle θ and height
h_t over the sphere R seen from the observer at R + h_s + h_obs has the elevation

    e = atan2((R + h_t)·cos θ − (R + h_s + h_obs), (R + h_t)·sin θ)

(plane geometry of the two radius vectors; it includes the curvature dip). The horizon is the
largest e along the ray. The result is a
:class:`~guanghan.environment.surface_illumination.HorizonProfile`.

Assumptions and limitations
    * The 8 px/deg DEM (~3.8 km pixels) resolves ridges and crater walls kilometres away, not the
      metre-scale relief next to the lander; the near field (first ``min_distance_m``) is skipped so
      that the site's own pixel, interpolated across its neighbours, does not mask the sky.
    * Sampling at ``step_m`` along rays and ``n_azimuths`` rays: a narrow peak between rays can be
      missed; the defaults (1 km, 5°) resolve features wider than ~5 % of their distance.
    * Beyond ~150 km on the Moon a 5 km high ridge sits below the curvature dip of a level
      observer (θ²R/2 ≈ 6.5 km at 150 km), so longer rays change nothing but the cost.

References
    Mazarico, E. et al. (2011), "Illumination conditions of the lunar polar regions using LOLA
    topography", Icarus 211, 1066–1081, §2 (horizon method on a DEM).
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.environment import lunar_dem
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.surface_illumination import HorizonProfile


def horizon_profile(lat_deg: float, lon_deg: float, *, observer_height_m: float = 2.0,
                    n_azimuths: int = 72, max_distance_m: float = 150_000.0, step_m: float = 1_000.0,
                    min_distance_m: float = 3_000.0) -> HorizonProfile:
    """Horizon elevation (deg) against azimuth (deg from north, through east) at a site; the
    site's height is the DEM's there, the observer ``observer_height_m`` above it."""
    if not 4 <= n_azimuths <= 3600:
        raise ValueError(f"n_azimuths = {n_azimuths} is outside [4, 3600]")
    if not 0.0 < min_distance_m < max_distance_m <= 1.0e6:
        raise ValueError(f"need 0 < min_distance_m ({min_distance_m}) < max_distance_m "
                         f"({max_distance_m}) ≤ 1e6 m")
    if not 0.0 < step_m <= max_distance_m - min_distance_m:
        raise ValueError(f"step_m = {step_m} must be > 0 and fit in the ray")
    az = np.arange(n_azimuths) * (360.0 / n_azimuths)
    s = np.arange(min_distance_m, max_distance_m + 0.5 * step_m, step_m)
    a = np.radians(az)[:, None]
    lat, lon = lunar_dem.destination_deg(lat_deg, lon_deg, s[None, :] * np.sin(a), s[None, :] * np.cos(a))
    h_t = np.asarray(lunar_dem.height_m(lat.ravel(), lon.ravel())).reshape(lat.shape)
    r_obs = MOON_MEAN_RADIUS + float(lunar_dem.height_m(lat_deg, lon_deg)) + observer_height_m
    theta = s[None, :] / MOON_MEAN_RADIUS
    r_t = MOON_MEAN_RADIUS + h_t
    elev = np.degrees(np.arctan2(r_t * np.cos(theta) - r_obs, r_t * np.sin(theta)))   # see module docstring
    return HorizonProfile(azimuth_deg=tuple(float(x) for x in az),
                          elevation_deg=tuple(float(x) for x in elev.max(axis=1)))


def dip_deg(distance_m: float, observer_height_m: float = 0.0) -> float:
    """Elevation (deg, negative) of level ground at ``distance_m`` seen from ``observer_height_m``
    above it on the bare sphere: the curvature dip, the horizon of a featureless Moon."""
    theta = distance_m / MOON_MEAN_RADIUS
    r_o = MOON_MEAN_RADIUS + observer_height_m
    return math.degrees(math.atan2(MOON_MEAN_RADIUS * math.cos(theta) - r_o, MOON_MEAN_RADIUS * math.sin(theta)))
