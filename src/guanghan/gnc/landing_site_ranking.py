"""Rank candidate landing sites in a lat/lon box from the global DEM, the Sun and the Earth.

For every DEM pixel centre in the box: the DEM-scale slope and roughness
(:mod:`guanghan.environment.lunar_dem`: 3 × 3-pixel least-squares plane, **~3.8 km pixels at the
equator, a slope over ~11 km** — a regional figure, not the slope under a 4 m lander footprint,
which is :mod:`guanghan.gnc.hazard_detection`'s business at the hover), the Sun's elevation
above the local horizon at the planned epoch and its minimum and maximum over the surface stay,
and the Earth's elevation (positive: direct-to-Earth link possible).

Elevations are topocentric and geometric: the body's position relative to the Moon's centre in
MOON_ME (DE440 through :mod:`guanghan.environment.spice_kernels`), minus the site position on the
1737.4 km sphere, projected on the local east/north/up axes of the planetocentric site
(elevation = asin(û·ŝ), azimuth = atan2(ê·ŝ, n̂·ŝ), clockwise from north).

Score (lower is better), stated so it can be argued with:
``score = slope_deg / slope_ref_deg + roughness_m / roughness_ref_m
+ 100·[Earth below min_earth_elevation_deg at the epoch] + 100·[Sun below min_sun_elevation_deg at
any sample of the stay]``. The two penalties push infeasible pixels to the bottom of the list
without hiding them.

Assumptions and limitations
    * Geometric directions (no light time, no aberration, no refraction — there is no air);
      Sun and Earth centres (the solar disc is 0.53° wide, the Earth 1.9°); horizon = the local
      plane of the sphere (no terrain masking by distant relief).
    * DEM-scale slope and roughness only; see :mod:`guanghan.environment.lunar_dem`.
    * Relay (e.g. Queqiao) visibility is out of scope.

References
    * Archinal, B. A. et al. (2018), Celest. Mech. Dyn. Astron. 130:22 (MOON_ME, planetocentric
      coordinates); Park, R. S. et al. (2021), "The JPL planetary and lunar ephemerides DE440 and
      DE441", Astron. J. 161:105.
    * Montenbruck, O., Gill, E. (2000), *Satellite Orbits*, §2.4 "Topocentric satellite motion"
      (local east/north/zenith axes; elevation = asin(ŝ·û), azimuth = atan2(ŝ·ê, ŝ·n̂)).
"""

from __future__ import annotations

import numpy as np

from guanghan.environment import lunar_dem, spice_kernels
from guanghan.environment.geodetic import (
    MOON_MEAN_RADIUS,
    cartesian_from_planetocentric,
)
from guanghan.environment.lunar_dem import TerrainError

INFEASIBLE_PENALTY = 100.0

CANDIDATE_DTYPE = np.dtype([
    ("lat_deg", "f8"), ("lon_deg", "f8"), ("slope_deg", "f8"), ("roughness_m", "f8"),
    ("dem_pixel_ns_m", "f8"), ("dem_pixel_ew_m", "f8"),
    ("sun_elevation_deg", "f8"), ("sun_elevation_min_deg", "f8"), ("sun_elevation_max_deg", "f8"),
    ("earth_elevation_deg", "f8"), ("earth_visible", "?"), ("sunlit_whole_stay", "?"), ("score", "f8"),
])

#: Sentence to carry next to any table of these candidates.
SCALE_NOTE = ("slope_deg and roughness_m are at the global DEM's scale (8 px/deg: 3.79 km pixels "
              "north-south, 3.79*cos(lat) km east-west; 3x3-pixel plane, ~11 km baseline); they are "
              "regional figures, not the slope under a lander footprint")


def _enu_axes(lat_deg, lon_deg):
    """Unit east, north, up vectors (…, 3) in MOON_ME at planetocentric sites (M&G 2000, §2.4)."""
    lat, lon = np.deg2rad(np.asarray(lat_deg, float)), np.deg2rad(np.asarray(lon_deg, float))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = np.stack([-so, co, np.zeros_like(so)], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return east, north, up


def body_elevation_azimuth_deg(body: str, lat_deg, lon_deg, ets, height_m=0.0):
    """Topocentric (elevation, azimuth) in deg of ``body`` seen from lunar sites, shape (n_sites, n_ets).

    Azimuth is clockwise from north. ``body`` is a SPICE name ("SUN", "EARTH").
    """
    lat = np.atleast_1d(np.asarray(lat_deg, float))
    lon = np.atleast_1d(np.asarray(lon_deg, float))
    lunar_dem._check_lat(lat), lunar_dem._check_lon(lon)
    ets = np.atleast_1d(np.asarray(ets, float))
    if not np.all(np.isfinite(ets)):
        raise TerrainError("epochs must be finite ET seconds", field="ets", value=ets)
    body_pos = spice_kernels.body_positions(body, "MOON", "MOON_ME", ets)          # (n_t, 3) m
    radius = MOON_MEAN_RADIUS + np.asarray(height_m, float)
    site = cartesian_from_planetocentric(np.deg2rad(lat), np.deg2rad(lon), radius)
    east, north, up = _enu_axes(lat, lon)
    rel = body_pos[None, :, :] - np.atleast_2d(site)[:, None, :]                  # (n_s, n_t, 3)
    rel /= np.linalg.norm(rel, axis=-1, keepdims=True)
    e = np.einsum("stk,sk->st", rel, east)
    n = np.einsum("stk,sk->st", rel, north)
    u = np.einsum("stk,sk->st", rel, up)
    elev = np.rad2deg(np.arcsin(np.clip(u, -1.0, 1.0)))           # elevation = asin(ŝ·û) (M&G §2.4)
    az = np.mod(np.rad2deg(np.arctan2(e, n)), 360.0)
    return elev, az


def flat_fraction(lat_deg: float, lon_deg: float, radius_km: float, slope_limit_deg: float) -> float:
    """Area fraction of DEM pixels within ``radius_km`` of a site whose DEM-scale slope < limit."""
    if not (np.isfinite(slope_limit_deg) and 0.0 < slope_limit_deg <= 90.0):
        raise TerrainError("must lie in (0, 90] deg", field="slope_limit_deg", value=slope_limit_deg)
    if not (np.isfinite(radius_km) and radius_km > 0):
        raise TerrainError("must be a positive distance", field="radius_km", value=radius_km)
    rows, cols, w = lunar_dem.disc_pixels(lat_deg, lon_deg, radius_km * 1e3)
    slope = lunar_dem.slope_map_deg()[rows, cols]
    return float(np.sum(w * (slope < slope_limit_deg)))


def rank_sites(lat1_deg: float, lat2_deg: float, lon1_deg: float, lon2_deg: float, et: float, *,
               stay_s: float = 2 * 86400.0, n_stay_samples: int = 49, slope_ref_deg: float = 2.0,
               roughness_ref_m: float = 50.0, min_sun_elevation_deg: float = 0.0,
               min_earth_elevation_deg: float = 0.0, max_candidates: int | None = None) -> np.ndarray:
    """Candidates (structured array, ``CANDIDATE_DTYPE``) in the box, sorted by ascending score.

    The box spans ``lon1_deg`` eastward to ``lon2_deg`` (may cross 180°). ``et`` is the planned
    landing epoch (s past J2000 TDB); the stay runs ``stay_s`` from it, sampled ``n_stay_samples``
    times. See :data:`SCALE_NOTE` for what the slope and roughness mean.
    """
    if not np.isfinite(et):
        raise TerrainError("must be a finite ET (s past J2000 TDB)", field="et", value=et)
    if not (np.isfinite(stay_s) and stay_s >= 0):
        raise TerrainError("must be a non-negative duration (s)", field="stay_s", value=stay_s)
    if int(n_stay_samples) < 1:
        raise TerrainError("must be at least 1", field="n_stay_samples", value=n_stay_samples)
    for name, v in (("slope_ref_deg", slope_ref_deg), ("roughness_ref_m", roughness_ref_m)):
        if not (np.isfinite(v) and v > 0):
            raise TerrainError("must be positive", field=name, value=v)
    rows, cols = lunar_dem.box_pixels(lat1_deg, lat2_deg, lon1_deg, lon2_deg)
    lat_c, lon_c = lunar_dem.pixel_centres_deg()
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    lat, lon = lat_c[rr], lon_c[cc]
    ets = et + np.linspace(0.0, stay_s, int(n_stay_samples)) if stay_s > 0 else np.array([et], float)
    sun_el, _ = body_elevation_azimuth_deg("SUN", lat, lon, ets)
    earth_el, _ = body_elevation_azimuth_deg("EARTH", lat, lon, np.array([et], float))
    out = np.empty(lat.size, CANDIDATE_DTYPE)
    out["lat_deg"], out["lon_deg"] = lat, lon
    out["slope_deg"] = lunar_dem.slope_map_deg()[rr, cc]
    out["roughness_m"] = lunar_dem.roughness_map_m()[rr, cc]
    out["dem_pixel_ns_m"] = lunar_dem.PIXEL_NS_M
    out["dem_pixel_ew_m"] = lunar_dem.PIXEL_NS_M * np.cos(np.deg2rad(lat))
    out["sun_elevation_deg"] = sun_el[:, 0]
    out["sun_elevation_min_deg"] = sun_el.min(axis=1)
    out["sun_elevation_max_deg"] = sun_el.max(axis=1)
    out["earth_elevation_deg"] = earth_el[:, 0]
    out["earth_visible"] = earth_el[:, 0] > min_earth_elevation_deg
    out["sunlit_whole_stay"] = out["sun_elevation_min_deg"] > min_sun_elevation_deg
    out["score"] = (out["slope_deg"] / slope_ref_deg + out["roughness_m"] / roughness_ref_m
                    + INFEASIBLE_PENALTY * (~out["earth_visible"])
                    + INFEASIBLE_PENALTY * (~out["sunlit_whole_stay"]))
    order = np.argsort(out["score"], kind="stable")
    out = out[order]
    return out if max_candidates is None else out[:int(max_candidates)]
