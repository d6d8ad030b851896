"""The atmospheres of a simulated entry: NRLMSIS 2.1 along the great circle of its ground track.

:func:`track_atmosphere` gives the guidance's on-board forecast and the truth, both NRLMSIS 2.1 at
the interface epoch at stations on the great circle from the interface to an end point (the
landing site for a guided entry, the drogue point of a pilot flight for an open-loop one,
:mod:`guanghan.gnc.entry_flight`), each an :class:`~guanghan.environment.atmosphere.AtmosphereTrack`.
The forecast can instead be one profile averaged over points of that circle (``forecast_points =
0``: the guidance of earlier versions), the truth the forecast itself (``truth_points = 0``).

Station counts: measured against NRLMSIS evaluated directly at every point of the flown Chang'e-5
tracks (chained return from 9° N 55° E and the ``chang-e-5-entry`` interface, 6,000-6,600 km,
20-100 km altitude), the table's largest error in ln ρ is 10 % for one averaged profile, 4 % with
2 stations, 0.9 % with 4, 0.3 % with 8, 0.2 % with 12 and 0.15 % from 16 on (the floor: the
capsule's crossrange from the great circle and the 1-km altitude grid); building a track of n
stations takes about 1.5 + 0.15·n ms. The defaults, 12 truth stations and an 8-station forecast,
are at and near that floor: the truth follows NRLMSIS as closely as the table can, and the
forecast differs from it by the interpolation between its coarser stations (≤ 0.3 %), while what
a real forecast gets wrong is what the density dispersions model (``density_scale``, altitude
perturbations).

Assumptions and limitations: time frozen at the interface epoch, the ground track approximated by
the great circle (see :mod:`guanghan.gnc.entry_flight`).
"""

from __future__ import annotations

import numpy as np

from guanghan.environment import spice_kernels
from guanghan.environment.atmosphere import (AtmosphereTrack, MsisDrivers, build_profile,
                                             build_track)
from guanghan.environment.geodetic import cartesian_from_planetodetic, planetodetic_from_cartesian


def site_unit(lat_deg: float, lon_deg: float) -> np.ndarray:
    """Unit vector (ITRF93) of the geodetic point (deg) on the ellipsoid."""
    p = cartesian_from_planetodetic(np.radians(lat_deg), np.radians(lon_deg), 0.0)
    return p / np.linalg.norm(p)


def ground_points(r0, end, n: int, ab) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic (lat, lon) (deg) of ``n`` points on the great circle from ``r0`` (m, ITRF93) to
    the unit vector ``end`` (all at ``r0`` if the two coincide); ``ab`` the ellipsoid's axes (m)."""
    p0 = np.asarray(r0, float) / np.linalg.norm(r0)
    angle = np.arccos(np.clip(p0 @ end, -1.0, 1.0))
    fr = np.linspace(0.0, 1.0, n)
    if angle < 1e-9:
        pts = np.tile(p0, (n, 1))
    else:                                               # slerp
        pts = (np.sin((1 - fr[:, None]) * angle) * p0 + np.sin(fr[:, None] * angle) * end) \
            / np.sin(angle)
    lat, lon, _ = planetodetic_from_cartesian(pts * ab[0])
    return np.degrees(lat), np.degrees(lon)


def track_atmosphere(et: float, r0, end, drivers: MsisDrivers | None, forecast_points: int,
                     truth_points: int, ab, profile_points: int = 7
                     ) -> tuple[AtmosphereTrack, AtmosphereTrack]:
    """(forecast, truth) at ``et`` (s TDB) along the great circle from ``r0`` (m, ITRF93) to the
    unit vector ``end``: ``forecast_points`` stations (0: one profile averaged over
    ``profile_points`` points, a one-station track) and ``truth_points`` stations (0: the
    forecast); the same stations are evaluated once."""
    utc = spice_kernels.et_to_utc(et)
    if forecast_points:
        lat, lon = ground_points(r0, end, forecast_points, ab)
        forecast = build_track(utc, lat, lon, drivers)
    else:
        lat, lon = ground_points(r0, end, profile_points, ab)
        forecast = AtmosphereTrack.uniform(build_profile(utc, lat, lon, drivers))
    if not truth_points or truth_points == forecast_points:
        return forecast, forecast
    lat, lon = ground_points(r0, end, truth_points, ab)
    return forecast, build_track(utc, lat, lon, drivers)
