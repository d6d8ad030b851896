"""The atmosphere of a simulated entry: NRLMSIS 2.1 along the great circle of its ground track.

:func:`track_atmosphere` gives the guidance's single profile (NRLMSIS averaged over points on the
great circle from the interface to an end point: the landing site for a guided entry, the drogue
point of a pilot flight for an open-loop one, :mod:`guanghan.gnc.entry_flight`) and the truth's
along-track stations (:class:`~guanghan.environment.atmosphere.AtmosphereTrack`), or the profile
itself as a uniform track when no stations are asked for.

Assumptions and limitations: time frozen at the interface epoch, the ground track approximated by
the great circle (see :mod:`guanghan.gnc.entry_flight`).
"""

from __future__ import annotations

import numpy as np

from guanghan.environment import spice_kernels
from guanghan.environment.atmosphere import (AtmosphereProfile, AtmosphereTrack, MsisDrivers,
                                             build_profile, build_track)
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


def track_atmosphere(et: float, r0, end, drivers: MsisDrivers | None, profile_points: int,
                     track_points: int, ab) -> tuple[AtmosphereProfile, AtmosphereTrack]:
    """(guidance profile, truth track) at ``et`` (s TDB) along the great circle from ``r0`` to
    ``end``: ``profile_points`` averaged into the profile, ``track_points`` truth stations (0:
    the profile, uniform along the track)."""
    utc = spice_kernels.et_to_utc(et)
    lat, lon = ground_points(r0, end, profile_points, ab)
    profile = build_profile(utc, lat, lon, drivers)
    if not track_points:
        return profile, AtmosphereTrack.uniform(profile)
    lat, lon = ground_points(r0, end, track_points, ab)
    return profile, build_track(utc, lat, lon, drivers)
