"""The terrain under a lunar descent: the global DEM around the site with a synthetic hover area.

:class:`DescentTerrain` is the ``terrain_height_m(east_m, north_m)`` of
:func:`guanghan.gnc.powered_descent.fly_powered_descent`: the global DEM
(:mod:`guanghan.environment.lunar_dem`, 3.8 km pixels), resampled once onto a tangent-plane grid
around the site, relative to the DEM at the site (so the site lies on the sphere of its published
elevation); inside the hover area a seeded synthetic terrain
(:mod:`guanghan.environment.synthetic_terrain`) tilted by the DEM's regional slope at the site
replaces it, blended into the DEM over its outer tenth. Site-frame east/north (the sub-point's
components on the site's axes) are converted to the grid's azimuthal-equidistant coordinates
(arc = R asin(ρ/R)).

Assumptions and limitations
    Between the hover area and the DEM there is no intermediate scale (tens of metres to
    kilometres): the approach sees the smooth DEM.

References
    Snyder, J. P. (1987), *Map Projections: A Working Manual*, USGS PP 1395, §25 (azimuthal
    equidistant projection).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from guanghan.environment import cache_files, lunar_dem
from guanghan.environment.geodetic import MOON_MEAN_RADIUS


DEM_GRID_SPACING_M = 2000.0

class DescentTerrain:
    """Terrain height (m) over the sphere through the site, at site-frame east/north (m)."""

    def __init__(self, lat_deg: float, lon_deg: float, half_width_m: float, keep: bool = False):
        """The DEM resampled within ``half_width_m`` (m) of the site; with ``keep`` the grid is kept
        in the cache folder for a later run over the same ground (:func:`cache_files.memoised`)."""
        def grid():
            x, _, z = lunar_dem.local_grid(lat_deg, lon_deg, half_width_m, DEM_GRID_SPACING_M)
            return {"x": x, "z": z}, {}

        key = (float(lat_deg), float(lon_deg), float(half_width_m), DEM_GRID_SPACING_M, lunar_dem.dem_key())
        arrays = cache_files.memoised("descent-dem-grid", key, grid)[0] if keep else grid()[0]
        x, z = arrays["x"], arrays["z"]
        self.x0, self.dx = float(x[0]), DEM_GRID_SPACING_M
        self.z = np.ascontiguousarray(z - lunar_dem.height_m(lat_deg, lon_deg))
        self.synthetic = None

    def regional_slope(self) -> tuple[float, float]:
        """(slope, downhill azimuth) in deg of the resampled DEM at the site (±1 grid step)."""
        d = self.dx
        gx = (self.dem(d, 0.0) - self.dem(-d, 0.0)) / (2 * d)
        gy = (self.dem(0.0, d) - self.dem(0.0, -d)) / (2 * d)
        return (math.degrees(math.atan(math.hypot(gx, gy))),
                math.degrees(math.atan2(-gx, -gy)) % 360.0)

    def attach(self, synthetic) -> None:
        """Use ``synthetic`` (centred on the site, carrying the regional slope) in the hover area,
        blended into the DEM over its outer tenth."""
        self.synthetic = synthetic
        self.s0, self.sdx = float(synthetic.x_m[0]), float(synthetic.resolution_m)
        self.half = 0.5 * (synthetic.x_m[-1] - synthetic.x_m[0])
        self.blend = 0.1 * self.half

    def dem(self, x: float, y: float) -> float:
        """Resampled DEM height (m, relative to the site) at grid coordinates (m)."""
        return _bilinear(self.z, self.x0, self.dx, x, y)

    def _patch(self):
        if self.synthetic is None:
            return _NO_PATCH, 0.0, 1.0, -1.0, 1.0
        return self.synthetic.height_m, self.s0, self.sdx, self.half, self.blend

    def __call__(self, east_m, north_m) -> float:
        return _height(float(east_m), float(north_m), self.z, self.x0, self.dx, *self._patch(), MOON_MEAN_RADIUS)

    def footprint_max(self, east_m: float, north_m: float, radius_m: float) -> float:
        """Highest height (m) at (``east_m``, ``north_m``) and at the four points ``radius_m`` (m)
        east, west, north and south of it: the same as five calls, in one compiled call."""
        return _footprint_max(float(east_m), float(north_m), float(radius_m), self.z, self.x0, self.dx,
                              *self._patch(), MOON_MEAN_RADIUS)

_NO_PATCH = np.zeros((2, 2))

@njit(cache=True)
def _bilinear(z, x0, dx, x, y):
    n = z.shape[0]
    fj = min(max((x - x0) / dx, 0.0), n - 1.000001)
    fi = min(max((y - x0) / dx, 0.0), n - 1.000001)
    j, i = int(fj), int(fi)
    a, b = fj - j, fi - i
    return ((z[i, j] * (1 - a) + z[i, j + 1] * a) * (1 - b)
            + (z[i + 1, j] * (1 - a) + z[i + 1, j + 1] * a) * b)

@njit(cache=True)
def _height(e, n, z, x0, dx, patch, s0, sdx, half, blend, radius):
    """DEM (+ blended patch) height at site-frame east/north (see :class:`DescentTerrain`)."""
    rho = math.sqrt(e * e + n * n)
    if rho > 1.0:                           # tangent-plane components → azimuthal equidistant
        k = radius * math.asin(min(rho / radius, 1.0)) / rho
        e, n = e * k, n * k
    h = _bilinear(z, x0, dx, e, n)
    inside = half - max(abs(e), abs(n))
    if inside > 0.0:
        w = min(inside / blend, 1.0)
        h = (1.0 - w) * h + w * _bilinear(patch, s0, sdx, e, n)
    return h


@njit(cache=True)
def _footprint_max(e, n, rad, z, x0, dx, patch, s0, sdx, half, blend, radius):
    """Highest of :func:`_height` at the centre and, for ``rad`` > 0, the four points ``rad`` away."""
    h = _height(e, n, z, x0, dx, patch, s0, sdx, half, blend, radius)
    if rad:
        for de, dn in ((rad, 0.0), (-rad, 0.0), (0.0, rad), (0.0, -rad)):
            h = max(h, _height(e + de, n + dn, z, x0, dx, patch, s0, sdx, half, blend, radius))
    return h
