"""Hazard detection and avoidance (HDA) at the ~100 m hover, as flown by Chang'e-3/4/5/6.

At the hover the lander images the area below with a 3-D lidar, computes for every candidate
touchdown point the slope and roughness under its footprint and the shadowed area, marks hazards,
and diverts to the nearest safe point within the divert radius the propellant and time budget
allow (Li, Jiang & Tao 2016; Zhang et al. 2014). This module does that on a terrain grid:

1. :func:`sense_terrain` — the true terrain as the lidar sees it: heights sampled at the lidar
   pixel centres (bilinear in the true grid) plus Gaussian range noise σ (seeded).
2. :func:`footprint_maps` — for each lidar pixel taken as the footprint centre, the
   least-squares plane over the footprint disc (z = a + b·x + c·y; on a centred symmetric disc the
   normal equations decouple: b = Σxz/Σx², c = Σyz/Σy², a = Σz/N), its slope atan √(b² + c²), and
   the largest residual above the plane (rocks, rims: what the lander body must clear).
3. :func:`shadow_map` — cast shadows from the Sun (elevation, azimuth in local ENU, inputs) by
   ray-marching every pixel toward the Sun over the height grid (one step per pixel, bilinear
   heights; a pixel is shadowed when the terrain rises above the ray).
4. :func:`detect_hazards` — hazard = slope > slope limit − slope margin (default 8° − 2°), or
   roughness > a threshold (default clearance/2: a sampled rock top or a noisy plane can hide
   part of an obstacle; the threshold must exceed n·σ of the range noise so that noise alone
   does not trip it), or shadowed fraction of the footprint > a limit, or footprint not fully
   imaged; safe = not hazard and at least ``site_margin_m`` from every hazard (Euclidean
   distance transform, ``scipy.ndimage.distance_transform_edt``); chosen = the safe point
   within the divert radius nearest the aim point (ties: lower cost). ``cost`` is the largest
   of slope/slope threshold, roughness/roughness threshold, shadow fraction/limit (≥ 1: hazard).
5. :func:`check_site` — the TRUE terrain at a touchdown point: least-squares plane over the
   footprint (full 3 × 3 normal equations, any centre), its slope, the largest residual above
   it, and the tallest true rock surface (from the terrain's rock list) inside the footprint.

Assumptions and limitations
    * The lidar pixel should not exceed the clearance: the smallest hazardous rock (height =
      clearance, diameter = 2 × clearance for Golombek–Rapp rocks) then spans at least two
      pixels. With 0.5 m pixels and 0.25 m clearance, rocks of 0.5 m can fall between samples.
    * Nadir-looking lidar, range noise taken as vertical noise; no range bias, no pointing
      error, no lidar footprint blurring, no occlusion (every pixel gets a return).
    * The lander touches down exactly at the chosen point: touchdown dispersion is the caller's
      (it is what ``site_margin_m`` should cover).
    * Craters are hazards through their wall slope and rim residuals; pits below the plane are
      not counted as obstacles.

References
    * Li, S., Jiang, X., Tao, T. (2016), "Guidance summary and assessment of the Chang'e-3
      powered descent and landing", J. Guid. Control Dyn. 39(2) (hover at ~100 m,
      3-D imaging, hazard avoidance).
    * Zhang, H. et al. (2014), "Autonomous hazard avoidance control for Chang'E-3 soft
      landing", Sci. Sin. Technol. 44(6) (slope/roughness criteria, safe-site selection).
    * Johnson, A. E., Klumpp, A. R., Collier, J. B., Wolf, A. A. (2002), "Lidar-based hazard
      avoidance for safe landing on Mars", J. Guid. Control Dyn. 25(6), 1091–1099 (plane fit
      over the lander footprint; slope and roughness as residual above the plane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.ndimage import distance_transform_edt, map_coordinates

from guanghan.environment.lunar_dem import TerrainError
from guanghan.environment.synthetic_terrain import SyntheticTerrain


@dataclass(frozen=True)
class SensedTerrain:
    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray           # (ny, nx), height_m[i, j] at (x_m[j], y_m[i])
    resolution_m: float
    range_noise_m: float


@dataclass(frozen=True)
class HdaResult:
    """Maps on the lidar grid and the chosen touchdown point."""

    x_m: np.ndarray
    y_m: np.ndarray
    sensed_height_m: np.ndarray
    slope_deg: np.ndarray          # footprint-plane slope at each candidate centre (NaN: not imaged)
    roughness_m: np.ndarray        # largest residual above that plane
    shadow: np.ndarray             # bool, pixel in cast shadow
    hazard: np.ndarray             # bool, centre unusable (criterion failed or footprint not imaged)
    safe: np.ndarray               # bool, not hazard and ≥ site_margin_m from every hazard
    cost: np.ndarray               # max of criterion/threshold ratios (≥ 1 is a hazard)
    hazard_distance_m: np.ndarray  # distance to the nearest hazard centre
    chosen_x_m: float
    chosen_y_m: float
    chosen_slope_deg: float
    chosen_roughness_m: float
    distance_from_aim_m: float
    safe_site_found: bool


@dataclass(frozen=True)
class SiteCheck:
    """The true terrain under a footprint."""

    slope_deg: float
    max_residual_m: float
    max_rock_height_m: float
    safe: bool
    reasons: tuple[str, ...]


def _check(name, value, lo=0.0, hi=None, lo_open=True):
    ok = np.isfinite(value) and (value > lo if lo_open else value >= lo) and (hi is None or value <= hi)
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else '∞'}]"
        raise TerrainError(f"must lie in {rng}", field=name, value=value)


# --------------------------------------------------------------------------- numba kernels


@njit(cache=True)
def _bilinear(z, fi, fj):
    ny, nx = z.shape
    i0 = min(max(int(np.floor(fi)), 0), ny - 2)
    j0 = min(max(int(np.floor(fj)), 0), nx - 2)
    di, dj = fi - i0, fj - j0
    return ((z[i0, j0] * (1 - dj) + z[i0, j0 + 1] * dj) * (1 - di)
            + (z[i0 + 1, j0] * (1 - dj) + z[i0 + 1, j0 + 1] * dj) * di)


@njit(cache=True)
def _shadow_kernel(z, res, tan_el, step_i, step_j):
    """Ray-march each pixel toward the Sun (steps of one pixel); True where terrain blocks it."""
    ny, nx = z.shape
    zmax = z.max()
    out = np.zeros((ny, nx), dtype=np.bool_)
    rise = tan_el * res                         # ray rise per step of one pixel length
    for i in range(ny):
        for j in range(nx):
            h = z[i, j]
            fi, fj = float(i), float(j)
            ray = h
            while True:
                fi += step_i
                fj += step_j
                ray += rise
                if fi < 0 or fj < 0 or fi > ny - 1 or fj > nx - 1 or ray > zmax:
                    break
                if _bilinear(z, fi, fj) > ray + 1e-9:
                    out[i, j] = True
                    break
    return out


@njit(cache=True)
def _footprint_kernel(z, shadow, di, dj, dx, dy):
    """Per centre: slope gradient (b, c), max residual above the plane, shadow fraction.

    Symmetric disc about the centre: Σx = Σy = Σxy = 0, so b = Σxz/Σx², c = Σyz/Σy² (Johnson 2002).
    Centres whose disc leaves the grid get NaN.
    """
    ny, nx = z.shape
    n = di.size
    zf = z.ravel()
    sf = shadow.ravel()
    off = di * nx + dj                          # flat offsets of the disc pixels
    sxx = np.sum(dx * dx)
    syy = np.sum(dy * dy)
    r = max(np.max(np.abs(di)), np.max(np.abs(dj)))
    grad = np.full((ny, nx), np.nan)
    resid = np.full((ny, nx), np.nan)
    shade = np.full((ny, nx), np.nan)
    for i in range(r, ny - r):
        for j in range(r, nx - r):
            c0 = i * nx + j
            s0 = 0.0
            sx = 0.0
            sy = 0.0
            ns = 0
            for k in range(n):
                h = zf[c0 + off[k]]
                s0 += h
                sx += dx[k] * h
                sy += dy[k] * h
                ns += sf[c0 + off[k]]
            a = s0 / n
            b = sx / sxx
            c = sy / syy
            worst = -1e300
            for k in range(n):
                e = zf[c0 + off[k]] - (a + b * dx[k] + c * dy[k])
                worst = max(worst, e)
            grad[i, j] = np.sqrt(b * b + c * c)
            resid[i, j] = worst
            shade[i, j] = ns / n
    return grad, resid, shade


# --------------------------------------------------------------------------- steps


def sense_terrain(terrain: SyntheticTerrain, lidar_resolution_m: float = 0.25, range_noise_m: float = 0.02,
                  seed=0) -> SensedTerrain:
    """The terrain seen by the lidar: true heights at lidar pixel centres + N(0, σ²) noise."""
    _check("lidar_resolution_m", lidar_resolution_m, terrain.resolution_m * 0.999, 5.0, lo_open=False)
    _check("range_noise_m", range_noise_m, 0.0, 1.0, lo_open=False)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_x = int(np.floor((terrain.x_m[-1] - terrain.x_m[0]) / lidar_resolution_m)) + 1
    n_y = int(np.floor((terrain.y_m[-1] - terrain.y_m[0]) / lidar_resolution_m)) + 1
    xs = terrain.x_m[0] + np.arange(n_x) * lidar_resolution_m
    ys = terrain.y_m[0] + np.arange(n_y) * lidar_resolution_m
    fj = (xs - terrain.x_m[0]) / terrain.resolution_m
    fi = (ys - terrain.y_m[0]) / terrain.resolution_m
    ii, jj = np.meshgrid(fi, fj, indexing="ij")
    h = map_coordinates(terrain.height_m, [ii, jj], order=1, mode="nearest")
    h = h + range_noise_m * rng.standard_normal(h.shape)
    return SensedTerrain(xs, ys, h, float(lidar_resolution_m), float(range_noise_m))


def disc_offsets(footprint_diameter_m: float, resolution_m: float):
    """Integer offsets (di, dj) and metric offsets (dx, dy) of the pixels within the footprint disc."""
    r_px = int(np.floor(0.5 * footprint_diameter_m / resolution_m + 1e-9))
    if r_px < 1:
        raise TerrainError(f"must span at least two pixels of {resolution_m} m", field="footprint_diameter_m",
                           value=footprint_diameter_m)
    g = np.arange(-r_px, r_px + 1)
    di, dj = np.meshgrid(g, g, indexing="ij")
    inside = (di**2 + dj**2) * resolution_m**2 <= (0.5 * footprint_diameter_m) ** 2 + 1e-12
    di, dj = di[inside].astype(np.int64), dj[inside].astype(np.int64)
    return di, dj, dj * float(resolution_m), di * float(resolution_m)


def footprint_maps(height_m: np.ndarray, resolution_m: float, footprint_diameter_m: float,
                   shadow: np.ndarray | None = None):
    """(slope_deg, roughness_m, shadow_fraction) of the footprint centred on each pixel (NaN at edges)."""
    z = np.ascontiguousarray(height_m, dtype=np.float64)
    sh = np.zeros(z.shape, np.int64) if shadow is None else np.ascontiguousarray(shadow, dtype=np.int64)
    di, dj, dx, dy = disc_offsets(footprint_diameter_m, resolution_m)
    grad, resid, shade = _footprint_kernel(z, sh, di, dj, dx, dy)
    return np.rad2deg(np.arctan(grad)), resid, shade


def shadow_map(height_m: np.ndarray, resolution_m: float, sun_elevation_deg: float,
               sun_azimuth_deg: float) -> np.ndarray:
    """Boolean cast-shadow map for a Sun at (elevation, azimuth from north, clockwise) deg.

    Rows of ``height_m`` run northward (row i at y_m[i]). Sun at or below the horizon: all dark.
    """
    _check("sun_elevation_deg", sun_elevation_deg, -90.0, 90.0, lo_open=False)
    z = np.ascontiguousarray(height_m, dtype=np.float64)
    if sun_elevation_deg <= 0.0:
        return np.ones(z.shape, bool)
    az = np.deg2rad(sun_azimuth_deg)
    step_j, step_i = np.sin(az), np.cos(az)          # one pixel length toward the Sun (east, north)
    return _shadow_kernel(z, float(resolution_m), float(np.tan(np.deg2rad(sun_elevation_deg))),
                          float(step_i), float(step_j))


def detect_hazards(terrain: SyntheticTerrain, *, divert_radius_m: float, sun_elevation_deg: float,
                   sun_azimuth_deg: float, aim_x_m: float = 0.0, aim_y_m: float = 0.0,
                   lidar_resolution_m: float = 0.25, range_noise_m: float = 0.02,
                   footprint_diameter_m: float = 4.0, clearance_m: float = 0.25,
                   slope_limit_deg: float = 8.0, slope_margin_deg: float = 2.0,
                   roughness_threshold_m: float | None = None, noise_sigmas: float = 3.0,
                   site_margin_m: float = 1.0, max_shadow_fraction: float = 0.5, seed=0) -> HdaResult:
    """Sense the terrain, map hazards and choose the safe site nearest the aim within the divert radius."""
    _check("divert_radius_m", divert_radius_m, 0.0, None, lo_open=False)
    _check("footprint_diameter_m", footprint_diameter_m, 0.0, 50.0)
    _check("clearance_m", clearance_m, 0.0, 5.0)
    _check("slope_limit_deg", slope_limit_deg, 0.0, 45.0)
    _check("slope_margin_deg", slope_margin_deg, 0.0, slope_limit_deg, lo_open=False)
    _check("site_margin_m", site_margin_m, 0.0, 100.0, lo_open=False)
    _check("max_shadow_fraction", max_shadow_fraction, 0.0, 1.0, lo_open=False)
    rough_thr = 0.5 * clearance_m if roughness_threshold_m is None else float(roughness_threshold_m)
    _check("roughness_threshold_m", rough_thr, 0.0, clearance_m)
    if rough_thr <= noise_sigmas * range_noise_m:
        raise TerrainError(f"must exceed {noise_sigmas}·σ = {noise_sigmas * range_noise_m:.3f} m so that "
                           "lidar noise alone does not mark every footprint", field="roughness_threshold_m",
                           value=rough_thr)
    sensed = sense_terrain(terrain, lidar_resolution_m, range_noise_m, seed)
    res = sensed.resolution_m
    shadow = shadow_map(sensed.height_m, res, sun_elevation_deg, sun_azimuth_deg)
    slope, rough, shade = footprint_maps(sensed.height_m, res, footprint_diameter_m, shadow)
    slope_thr = slope_limit_deg - slope_margin_deg
    with np.errstate(invalid="ignore"):
        if max_shadow_fraction > 0:
            shade_ratio = shade / max_shadow_fraction
        else:
            shade_ratio = np.where(shade > 0, np.inf, 0.0)
        cost = np.fmax(np.fmax(slope / slope_thr, rough / rough_thr), shade_ratio)
        hazard = ~(cost < 1.0)                       # NaN (footprint not imaged) counts as hazard
    dist = distance_transform_edt(~hazard, sampling=res)
    safe = ~hazard & (dist >= site_margin_m)
    xx, yy = np.meshgrid(sensed.x_m, sensed.y_m)
    d_aim = np.hypot(xx - aim_x_m, yy - aim_y_m)
    reach = d_aim <= divert_radius_m
    candidates = safe & reach
    found = bool(candidates.any())
    if found:
        key = np.where(candidates, d_aim + 1e-6 * cost, np.inf)   # nearest; ties → lower cost
    else:
        key = np.where(reach & np.isfinite(cost), cost, np.inf)    # best effort: least bad
        if not np.isfinite(key).any():
            key = d_aim
    i, j = np.unravel_index(int(np.argmin(key)), key.shape)
    return HdaResult(sensed.x_m, sensed.y_m, sensed.height_m, slope, rough, shadow, hazard, safe, cost, dist,
                     float(sensed.x_m[j]), float(sensed.y_m[i]), float(slope[i, j]), float(rough[i, j]),
                     float(d_aim[i, j]), found)


def check_site(terrain: SyntheticTerrain, x_m: float, y_m: float, footprint_diameter_m: float = 4.0,
               clearance_m: float = 0.25, slope_limit_deg: float = 8.0) -> SiteCheck:
    """Judge a touchdown at (x_m, y_m) on the TRUE terrain (plane fit over the footprint, true rocks)."""
    _check("footprint_diameter_m", footprint_diameter_m, 0.0, 50.0)
    _check("clearance_m", clearance_m, 0.0, 5.0)
    _check("slope_limit_deg", slope_limit_deg, 0.0, 90.0)
    radius = 0.5 * footprint_diameter_m
    x, y, res = terrain.x_m, terrain.y_m, terrain.resolution_m
    fits = x[0] <= x_m - radius and x_m + radius <= x[-1] and y[0] <= y_m - radius and y_m + radius <= y[-1]
    if not fits:
        raise TerrainError(f"footprint of radius {radius} m leaves the terrain "
                           f"[{x[0]:.2f}, {x[-1]:.2f}] × [{y[0]:.2f}, {y[-1]:.2f}] m", field="x_m, y_m",
                           value=(x_m, y_m))
    j0, j1 = np.searchsorted(x, [x_m - radius, x_m + radius])
    i0, i1 = np.searchsorted(y, [y_m - radius, y_m + radius])
    sub = terrain.height_m[i0:i1 + 1, j0:j1 + 1]
    dx = x[j0:j1 + 1][None, :] - x_m
    dy = y[i0:i1 + 1][:, None] - y_m
    inside = dx**2 + dy**2 <= radius**2
    dxv, dyv = np.broadcast_to(dx, sub.shape)[inside], np.broadcast_to(dy, sub.shape)[inside]
    if dxv.size < 3:
        raise TerrainError(f"covers fewer than 3 pixels of {res} m", field="footprint_diameter_m",
                           value=footprint_diameter_m)
    a_mat = np.column_stack([np.ones_like(dxv), dxv, dyv])
    coef, *_ = np.linalg.lstsq(a_mat, sub[inside], rcond=None)   # z = a + b x + c y (least squares)
    slope = float(np.rad2deg(np.arctan(np.hypot(coef[1], coef[2]))))
    resid = float(np.max(sub[inside] - a_mat @ coef))
    rocks = terrain.rocks
    # Tallest rock surface inside the footprint: a half-ellipsoid rock of radius R and height H
    # centred at distance d rises to H·√(1 − (max(0, d − r_f)/R)²) within the footprint disc.
    d_out = np.maximum(np.hypot(rocks["x_m"] - x_m, rocks["y_m"] - y_m) - radius, 0.0)
    frac = 1.0 - (d_out / (0.5 * rocks["diameter_m"])) ** 2
    rock_h = float(np.max(rocks["height_m"] * np.sqrt(np.maximum(frac, 0.0)), initial=0.0))
    reasons = []
    if slope > slope_limit_deg:
        reasons.append(f"slope {slope:.1f} deg > {slope_limit_deg} deg")
    if rock_h > clearance_m:
        reasons.append(f"rock {rock_h:.2f} m > clearance {clearance_m} m")
    if resid > clearance_m:
        reasons.append(f"residual {resid:.2f} m above plane > clearance {clearance_m} m")
    return SiteCheck(slope, resid, rock_h, not reasons, tuple(reasons))
