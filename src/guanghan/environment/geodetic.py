"""Planetocentric and planetodetic coordinates on the Moon and the Earth.

* Planetocentric (the lunar convention, IAU/LOLA): latitude from the equator to the radius vector,
  longitude east-positive in (-180°, 180°], radius; altitude above a reference sphere.
* Planetodetic (the terrestrial convention): latitude of the ellipsoid normal, height along it,
  for an oblate spheroid of equatorial radius ``a`` and flattening ``f``.

Assumptions and limitations
    The Moon is treated as a sphere of radius 1 737 400 m (IAU/LOLA reference); the Earth as the
    spheroid of ``pck00011.tpc`` (a = 6 378 136.6 m, f = 1/298.2576…) unless another is passed.
    Planetodetic conversion uses Bowring's iteration, converged to < 1e-12 rad.

Also here: the local east–north–up basis and great-circle distances and destinations on a sphere
(spherical trigonometry, the haversine form for small distances: Sinnott, R. W. (1984), "Virtues
of the haversine", Sky and Telescope 68(2), 159).

References
    Bowring, B. R. (1976), "Transformation from spatial to geographical coordinates", Survey
    Review 23(181); Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), Algorithm 12
    (ECEF to lat/lon) and eq. 3-7.
"""

from __future__ import annotations

import numpy as np

from guanghan.environment.constants import EARTH_MEAN_RADIUS

MOON_MEAN_RADIUS = 1_737_400.0            # m, IAU 2015 / LOLA reference sphere
EARTH_EQUATORIAL_RADIUS = 6_378_136.6     # m, pck00011.tpc (IERS 2003)
EARTH_FLATTENING = (6378.1366 - 6356.7519) / 6378.1366  # from the pck00011.tpc radii


def wrap_longitude_deg(lon_deg):
    """Longitude(s) in degrees wrapped to (-180, 180]."""
    lon = np.mod(np.asarray(lon_deg, dtype=float) + 180.0, 360.0) - 180.0
    return np.where(lon == -180.0, 180.0, lon)


def planetocentric_from_cartesian(r_bf: np.ndarray):
    """(lat_rad, lon_rad, radius_m) of body-fixed positions (n, 3) or (3,) in m."""
    r = np.asarray(r_bf, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    rho = np.hypot(x, y)
    return np.arctan2(z, rho), np.arctan2(y, x), np.hypot(rho, z)


def cartesian_from_planetocentric(lat_rad, lon_rad, radius_m) -> np.ndarray:
    """Body-fixed position(s) (m) from planetocentric latitude, longitude (rad) and radius (m)."""
    lat, lon, rad = np.broadcast_arrays(np.asarray(lat_rad, float), np.asarray(lon_rad, float),
                                        np.asarray(radius_m, float))
    cl = np.cos(lat)
    return np.stack([rad * cl * np.cos(lon), rad * cl * np.sin(lon), rad * np.sin(lat)], axis=-1)


def cartesian_from_planetodetic(lat_rad, lon_rad, height_m, a=EARTH_EQUATORIAL_RADIUS,
                                f=EARTH_FLATTENING) -> np.ndarray:
    """Body-fixed position(s) (m) from planetodetic lat, lon (rad) and height (m); Vallado eq. 3-7."""
    lat, lon, h = np.broadcast_arrays(np.asarray(lat_rad, float), np.asarray(lon_rad, float),
                                      np.asarray(height_m, float))
    e2 = f * (2.0 - f)
    n = a / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)           # prime-vertical radius of curvature
    return np.stack([(n + h) * np.cos(lat) * np.cos(lon), (n + h) * np.cos(lat) * np.sin(lon),
                     (n * (1.0 - e2) + h) * np.sin(lat)], axis=-1)


def planetodetic_from_cartesian(r_bf: np.ndarray, a=EARTH_EQUATORIAL_RADIUS, f=EARTH_FLATTENING):
    """(lat_rad, lon_rad, height_m) of body-fixed position(s) (m); Bowring (1976) iteration."""
    r = np.asarray(r_bf, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    e2 = f * (2.0 - f)
    b = a * (1.0 - f)
    ep2 = e2 / (1.0 - e2)
    p = np.hypot(x, y)
    beta = np.arctan2(z * a, p * b)                         # parametric latitude, first guess
    lat = np.arctan2(z + ep2 * b * np.sin(beta) ** 3, p - e2 * a * np.cos(beta) ** 3)
    for _ in range(5):
        beta = np.arctan2((1.0 - f) * np.sin(lat), np.cos(lat))
        lat_new = np.arctan2(z + ep2 * b * np.sin(beta) ** 3, p - e2 * a * np.cos(beta) ** 3)
        if np.all(np.abs(lat_new - lat) < 1e-13):
            lat = lat_new
            break
        lat = lat_new
    sin_lat = np.sin(lat)
    n = a / np.sqrt(1.0 - e2 * sin_lat ** 2)
    # Height: well conditioned at all latitudes (Vallado Algorithm 12 variant).
    h = p * np.cos(lat) + z * sin_lat - a * a / n
    return lat, np.arctan2(y, x), h


def enu_basis(lat_rad: float, lon_rad: float) -> np.ndarray:
    """Rows east, north, up (unit vectors in body-fixed axes) at latitude, longitude (rad).

    ``lat_rad`` is the latitude of the local vertical: planetodetic for the ellipsoid normal,
    planetocentric for the radial direction."""
    sl, cl, so, co = np.sin(lat_rad), np.cos(lat_rad), np.sin(lon_rad), np.cos(lon_rad)
    return np.array([[-so, co, 0.0], [-sl * co, -sl * so, cl], [cl * co, cl * so, sl]])


def great_circle_distance(lat1_rad, lon1_rad, lat2_rad, lon2_rad, radius_m=EARTH_MEAN_RADIUS):
    """Great-circle distance(s) (m) between points (rad) on a sphere of ``radius_m`` (m); haversine."""
    s = (np.sin(0.5 * (np.asarray(lat2_rad) - lat1_rad)) ** 2
         + np.cos(lat1_rad) * np.cos(lat2_rad) * np.sin(0.5 * (np.asarray(lon2_rad) - lon1_rad)) ** 2)
    return 2.0 * radius_m * np.arcsin(np.sqrt(np.clip(s, 0.0, 1.0)))


def destination(lat_rad: float, lon_rad: float, bearing_rad: float, angle_rad: float) -> tuple[float, float]:
    """(lat, lon) (rad) reached from (lat, lon) along the great circle leaving at ``bearing_rad``
    (from north, clockwise) after the central angle ``angle_rad`` (spherical law of cosines)."""
    lat = np.arcsin(np.sin(lat_rad) * np.cos(angle_rad)
                    + np.cos(lat_rad) * np.sin(angle_rad) * np.cos(bearing_rad))
    lon = lon_rad + np.arctan2(np.sin(bearing_rad) * np.sin(angle_rad) * np.cos(lat_rad),
                               np.cos(angle_rad) - np.sin(lat_rad) * np.sin(lat))
    return float(lat), float(lon)
