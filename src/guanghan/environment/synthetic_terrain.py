"""Seeded synthetic lunar terrain for the hover area (≤ 0.5 m/px): craters, rocks, roughness, tilt.

The terrain is the sum of (1) a plane carrying the regional slope (taken from the global DEM by
the caller), (2) a population of simple craters, (3) a self-affine (fractal) roughness field,
and on top (4) rocks. Heights are in m on a local east (x) / north (y) grid centred on the site;
``height_m[i, j]`` is at ``(x_m[j], y_m[i])`` (row index increases northward).

Craters
    Cumulative size–frequency distribution in *empirical equilibrium*, N(≥D) = K·D⁻² per m² with
    D in m (Trask 1966; Gault 1970), valid for the metre–decametre craters that matter here:
    on surfaces older than ~1 Gyr these small craters are saturated, so the production function
    (Neukum et al. 2001, steeper) no longer sets their density. Geometric saturation is
    N_gs = 1.54·D⁻² (Gault 1970); K is a fraction of it:
    * mare: K = 0.079 (10^-1.1; 5.1 % of geometric saturation) — Trask (1966)'s mare equilibrium
      from Ranger images, N = 10^10.9 D⁻² per 10⁶ km² (D in m);
    * highland: K = 0.108 (7 %) — a modelling choice within the few-per-cent band of equilibrium
      densities reported by Gault (1970) and Xiao & Werner (2015), denser than mare.
    Craters are placed uniformly at random (Poisson) with D ∈ [D_min, D_max]. Shape (fresh simple
    crater, Pike 1977): rim-to-floor depth d = 0.196·D, rim height h = 0.036·D; parabolic bowl
    inside, ejecta blanket h·(r/R)⁻³ outside (McGetchin et al. 1973), tapered to zero at 3R.
    Degradation: each crater gets a freshness a ∈ [0.1, 1] with d = a·0.196·D and h = a²·0.036·D
    (rims soften first). a = 1/(1 + 9u), u ~ U(0, 1): a crater's age is uniform over its
    lifetime in steady state, and a hyperbolic decay of depth approximates the topographic
    diffusion of Fassett & Thomson (2014) (a qualitative stand-in, not a fit); at a = 0.1
    (d/D ≈ 0.02) a crater has merged into the background. Profiles add (no overprinting).

Rocks
    Golombek & Rapp (1997) exponential model: cumulative fractional area covered by rocks of
    diameter ≥ D, F_k(D) = k·exp(−q(k)·D), q(k) = 1.79 + 0.152/k (D in m). Differentiating, the
    number density per m² per m is n(D) = 4 k q e^(−qD) / (π D²), sampled here on [D_min, D_max] by inverse CDF.
    Rock height = D/2 (Golombek & Rapp 1997, heights ≈ half the diameter); shape a
    half-ellipsoid. Total rock abundance k per class (modelling choices, override with
    ``rock_abundance``): mare k = 0.02, highland k = 0.06. Surveyor fragment counts put the mare
    sites at a few per cent or less and the highland Surveyor 7 site (Tycho ejecta) several
    times higher (as summarised by Cintala & McBride 1995); Diviner rock abundance
    (rocks ≳ 1 m) is below ~1 % over most of the Moon (Bandfield et al. 2011), consistent with
    the tiny F_k(1 m) these k give outside fresh ejecta.

Roughness
    Self-affine Gaussian field with Hurst exponent H (power spectrum ∝ f^−(2H+2), Voss 1988
    spectral synthesis), scaled so that its RMS height difference at a 1 m baseline
    (RMS deviation ν(Δx) = ν₁·Δx^H, Shepard et al. 2001) is ν₁: mare H = 0.9, ν₁ = 0.015 m;
    highland H = 0.8, ν₁ = 0.025 m. H follows the LOLA values (maria smoother and more
    persistent than highlands, Rosenburg et al. 2011); ν₁ represents sub-crater regolith
    undulation and is a modelling choice.

Assumptions and limitations
    * Flat-Moon local frame (curvature drop over 200 m is 3 mm). Craters, rocks and roughness
      are statistically homogeneous; no fresh-crater rock halos, no secondary-crater clusters.
    * Equilibrium SFD only: on young surfaces (< ~100 Myr) real small-crater densities are lower.
    * Craters are sampled over the grid plus a 1.5·D_max margin so rims and ejecta of craters
      centred outside still reach the grid; the crater list keeps only those touching it.

References
    * Trask, N. J. (1966), JPL Tech. Rep. 32-800, 252–263 (Ranger VIII/IX crater counts).
    * Gault, D. E. (1970), "Saturation and equilibrium conditions for impact cratering on the
      lunar surface", Radio Sci. 5(2), 273–291.
    * Neukum, G., Ivanov, B. A., Hartmann, W. K. (2001), Space Sci. Rev. 96, 55–86.
    * Xiao, Z., Werner, S. C. (2015), "Size-frequency distribution of crater populations in
      equilibrium on the Moon", J. Geophys. Res. Planets 120.
    * Pike, R. J. (1977), "Size-dependence in the shape of fresh impact craters on the Moon",
      in Impact and Explosion Cratering, 489–509 (d = 0.196 D^1.010, h = 0.036 D^1.014, km).
    * McGetchin, T. R., Settle, M., Head, J. W. (1973), EPSL 20, 226–236 (ejecta ∝ r⁻³).
    * Fassett, C. I., Thomson, B. J. (2014), "Crater degradation on the lunar maria: topographic
      diffusion and the rate of erosion on the Moon", J. Geophys. Res. Planets 119, 2255–2271.
    * Golombek, M., Rapp, D. (1997), "Size-frequency distributions of rocks on Mars and Earth
      analog sites", J. Geophys. Res. 102(E2), 4117–4129 (F_k(D) and q(k)).
    * Cintala, M. J., McBride, K. M. (1995), "Block distributions on the lunar surface: a
      comparison between measurements obtained from surface and orbital photography", NASA
      TM-104804; Bandfield, J. L. et al. (2011), J. Geophys. Res. 116, E00H02 (Diviner rocks).
    * Voss, R. F. (1988), in *The Science of Fractal Images*, Springer, §1.6 (spectral synthesis);
      Shepard, M. K. et al. (2001), J. Geophys. Res. 106(E12), 32777–32795;
      Rosenburg, M. A. et al. (2011), J. Geophys. Res. 116, E02001.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from guanghan.environment import cache_files
from guanghan.environment.lunar_dem import TerrainError

GEOMETRIC_SATURATION = 1.54        # Gault (1970): N_gs(≥D) = 1.54 D⁻² (consistent units)
FRESH_DEPTH_RATIO = 0.196          # Pike (1977), rim-to-floor depth / D
FRESH_RIM_RATIO = 0.036            # Pike (1977), rim height / D
EJECTA_EXTENT = 3.0                # ejecta taper to zero at 3 crater radii
MIN_FRESHNESS = 0.1                # d/D ≈ 0.02: merged into the background

CRATER_DTYPE = np.dtype([("x_m", "f8"), ("y_m", "f8"), ("diameter_m", "f8"), ("depth_m", "f8"),
                         ("rim_height_m", "f8"), ("freshness", "f8")])
ROCK_DTYPE = np.dtype([("x_m", "f8"), ("y_m", "f8"), ("diameter_m", "f8"), ("height_m", "f8")])


@dataclass(frozen=True)
class SiteClass:
    """Statistical parameters of a terrain class (see the module docstring for sources)."""

    name: str
    crater_k: float                # K in N(≥D) = K D⁻² (per m², D in m)
    rock_abundance: float          # Golombek–Rapp k
    hurst: float                   # Hurst exponent of the roughness field
    rms_deviation_1m_m: float      # RMS height difference at 1 m baseline (m)


SITE_CLASSES = {
    "mare": SiteClass("mare", 10 ** -1.1, 0.02, 0.9, 0.015),
    "highland": SiteClass("highland", 0.07 * GEOMETRIC_SATURATION, 0.06, 0.8, 0.025),
}


@dataclass(frozen=True)
class SyntheticTerrain:
    """A realisation: axes (m), heights (m), the crater and rock lists that built it."""

    x_m: np.ndarray                # (nx,) east, ascending, centred on the site
    y_m: np.ndarray                # (ny,) north, ascending
    height_m: np.ndarray           # (ny, nx), height_m[i, j] at (x_m[j], y_m[i]); rocks included
    ground_m: np.ndarray           # (ny, nx) the same without rocks
    rocks: np.ndarray              # structured, ROCK_DTYPE
    craters: np.ndarray            # structured, CRATER_DTYPE
    resolution_m: float
    seed: int | None
    site_class: str
    crater_diameter_range_m: tuple[float, float]
    rock_diameter_range_m: tuple[float, float]

    @property
    def area_m2(self) -> float:
        return float(self.x_m.size * self.y_m.size * self.resolution_m**2)


def crop(terrain: SyntheticTerrain, x_m: float, y_m: float, half_width_m: float) -> SyntheticTerrain:
    """The part of ``terrain`` within ``half_width_m`` (m) of (``x_m``, ``y_m``) in each axis,
    clipped to the grid: the same heights (views, not copies) and the rocks and craters that
    reach into it. A sensor that sees a window of a large terrain senses this."""
    _check_positive("half_width_m", half_width_m)
    jx = np.nonzero(np.abs(terrain.x_m - x_m) <= half_width_m)[0]
    iy = np.nonzero(np.abs(terrain.y_m - y_m) <= half_width_m)[0]
    if jx.size < 2 or iy.size < 2:
        raise TerrainError(f"the window ±{half_width_m} m around ({x_m:.1f}, {y_m:.1f}) m misses the "
                           f"terrain [{terrain.x_m[0]:.1f}, {terrain.x_m[-1]:.1f}] m", field="x_m, y_m",
                           value=(x_m, y_m))
    cols, rows = slice(jx[0], jx[-1] + 1), slice(iy[0], iy[-1] + 1)
    x, y = terrain.x_m[cols], terrain.y_m[rows]
    r, c = terrain.rocks, terrain.craters
    rock_in = (np.abs(r["x_m"] - x_m) < half_width_m + 0.5 * r["diameter_m"]) & \
        (np.abs(r["y_m"] - y_m) < half_width_m + 0.5 * r["diameter_m"])
    reach = EJECTA_EXTENT * 0.5 * c["diameter_m"]
    crater_in = (np.abs(c["x_m"] - x_m) < half_width_m + reach) & \
        (np.abs(c["y_m"] - y_m) < half_width_m + reach)
    return SyntheticTerrain(x, y, terrain.height_m[rows, cols], terrain.ground_m[rows, cols],
                            r[rock_in], c[crater_in], terrain.resolution_m, terrain.seed,
                            terrain.site_class, terrain.crater_diameter_range_m,
                            terrain.rock_diameter_range_m)


def golombek_rapp_q(k: float) -> float:
    """q(k) = 1.79 + 0.152/k (Golombek & Rapp 1997), m⁻¹."""
    return 1.79 + 0.152 / k


def rock_cumulative_area(k: float, diameter_m) -> np.ndarray:
    """F_k(D) = k exp(−q(k) D): fraction of area covered by rocks ≥ D (Golombek & Rapp 1997)."""
    return k * np.exp(-golombek_rapp_q(k) * np.asarray(diameter_m, float))


def rock_number_density(k: float, diameter_m) -> np.ndarray:
    """n(D) = −dF/dD · 4/(πD²) = 4 k q e^(−qD)/(πD²): rocks per m² per m of diameter."""
    d = np.asarray(diameter_m, float)
    q = golombek_rapp_q(k)
    return 4.0 * k * q * np.exp(-q * d) / (np.pi * d * d)


def crater_cumulative_density(crater_k: float, diameter_m) -> np.ndarray:
    """N(≥D) = K D⁻² craters per m² (Trask 1966; Gault 1970 equilibrium)."""
    return crater_k * np.asarray(diameter_m, float) ** -2.0


# --------------------------------------------------------------------------- numba kernels


@njit(cache=True)
def _add_craters(z, x0, y0, res, cx, cy, radius, depth, rim):
    """Add crater profiles (Pike 1977 bowl + r⁻³ ejecta to 3R) to z in place."""
    ny, nx = z.shape
    taper = EJECTA_EXTENT ** -3.0
    for k in range(cx.size):
        R = radius[k]
        reach = EJECTA_EXTENT * R
        j0 = max(0, int(np.floor((cx[k] - reach - x0) / res)))
        j1 = min(nx - 1, int(np.ceil((cx[k] + reach - x0) / res)))
        i0 = max(0, int(np.floor((cy[k] - reach - y0) / res)))
        i1 = min(ny - 1, int(np.ceil((cy[k] + reach - y0) / res)))
        floor = rim[k] - depth[k]
        inv_r2 = 1.0 / (R * R)
        reach2 = EJECTA_EXTENT * EJECTA_EXTENT
        for i in range(i0, i1 + 1):
            dy = y0 + i * res - cy[k]
            for j in range(j0, j1 + 1):
                dx = x0 + j * res - cx[k]
                r2 = (dx * dx + dy * dy) * inv_r2              # (r/R)², no root inside the bowl
                if r2 <= 1.0:
                    z[i, j] += floor + depth[k] * r2             # parabolic bowl, rim at r = 1
                elif r2 < reach2:
                    z[i, j] += rim[k] * (1.0 / (r2 * np.sqrt(r2)) - taper) / (1.0 - taper)  # ejecta ∝ r⁻³
    return z


@njit(cache=True)
def _rock_layer(layer, x0, y0, res, cx, cy, radius, height):
    """Max-combine half-ellipsoid rocks (semi-axes R, R, H) into layer in place."""
    ny, nx = layer.shape
    for k in range(cx.size):
        R = radius[k]
        j0 = max(0, int(np.floor((cx[k] - R - x0) / res)))
        j1 = min(nx - 1, int(np.ceil((cx[k] + R - x0) / res)))
        i0 = max(0, int(np.floor((cy[k] - R - y0) / res)))
        i1 = min(ny - 1, int(np.ceil((cy[k] + R - y0) / res)))
        for i in range(i0, i1 + 1):
            dy = y0 + i * res - cy[k]
            for j in range(j0, j1 + 1):
                dx = x0 + j * res - cx[k]
                s = 1.0 - (dx * dx + dy * dy) / (R * R)
                if s > 0.0:
                    h = height[k] * np.sqrt(s)
                    layer[i, j] = max(layer[i, j], h)
    return layer


# --------------------------------------------------------------------------- samplers


def _generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed, None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed)), int(seed)
    raise TerrainError("must be a non-negative int or a numpy.random.Generator", field="seed", value=seed)


def sample_craters(rng, crater_k, d_min, d_max, x_lim, y_lim):
    """Poisson craters with N(≥D) = K D⁻² on [d_min, d_max], uniform in a box; with freshness."""
    area = (x_lim[1] - x_lim[0]) * (y_lim[1] - y_lim[0])
    mean_n = crater_k * (d_min**-2 - d_max**-2) * area
    n = rng.poisson(mean_n)
    x = rng.uniform(x_lim[0], x_lim[1], n)
    y = rng.uniform(y_lim[0], y_lim[1], n)
    u = rng.uniform(0.0, 1.0, n)
    d = (d_min**-2 - u * (d_min**-2 - d_max**-2)) ** -0.5          # inverse CDF of K D⁻²
    fresh = 1.0 / (1.0 + (1.0 / MIN_FRESHNESS - 1.0) * rng.uniform(0.0, 1.0, n))  # a = 1/(1+9u)
    out = np.empty(n, CRATER_DTYPE)
    out["x_m"], out["y_m"], out["diameter_m"] = x, y, d
    out["depth_m"] = fresh * FRESH_DEPTH_RATIO * d                 # Pike (1977) d/D, degraded
    out["rim_height_m"] = fresh**2 * FRESH_RIM_RATIO * d           # Pike (1977) h/D, degraded
    out["freshness"] = fresh
    return out


def sample_rocks(rng, k, d_min, d_max, x_lim, y_lim):
    """Poisson rocks with the Golombek & Rapp (1997) n(D) on [d_min, d_max], uniform in a box."""
    area = (x_lim[1] - x_lim[0]) * (y_lim[1] - y_lim[0])
    grid = np.geomspace(d_min, d_max, 4001)
    dens = rock_number_density(k, grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    n = rng.poisson(cdf[-1] * area)
    x = rng.uniform(x_lim[0], x_lim[1], n)
    y = rng.uniform(y_lim[0], y_lim[1], n)
    d = np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)
    out = np.empty(n, ROCK_DTYPE)
    out["x_m"], out["y_m"], out["diameter_m"] = x, y, d
    out["height_m"] = 0.5 * d                                       # Golombek & Rapp: H ≈ D/2
    return out


def fractal_surface(rng, ny, nx, resolution_m, hurst, rms_deviation_1m_m):
    """Self-affine Gaussian field (Voss 1988 spectral synthesis), ν(1 m) scaled to the target."""
    fy = np.fft.fftfreq(ny, resolution_m)[:, None]
    fx = np.fft.rfftfreq(nx, resolution_m)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = np.inf
    amp = f ** (-(hurst + 1.0))                                      # P(f) ∝ f^−(2H+2)
    noise = rng.standard_normal((ny, nx))
    z = np.fft.irfft2(np.fft.rfft2(noise) * amp, s=(ny, nx))
    lag = max(1, round(1.0 / resolution_m))
    dev = np.sqrt(0.5 * (np.mean((z[:, lag:] - z[:, :-lag]) ** 2) + np.mean((z[lag:] - z[:-lag]) ** 2)))
    baseline = lag * resolution_m
    target = rms_deviation_1m_m * baseline**hurst                   # ν(Δx) = ν₁ Δx^H (Shepard 2001)
    return z * (target / dev) if dev > 0 else z


# --------------------------------------------------------------------------- generator


def _check_positive(name, value, upper=None):
    if not (np.isfinite(value) and value > 0 and (upper is None or value <= upper)):
        limit = f" and at most {upper}" if upper is not None else ""
        raise TerrainError(f"must be positive{limit}", field=name, value=value)


def generate(seed, *, site_class: str = "mare", size_m: float = 200.0, resolution_m: float = 0.25,
             regional_slope_deg: float = 0.0, regional_aspect_deg: float = 0.0,
             crater_diameter_range_m: tuple[float, float] | None = None,
             rock_diameter_range_m: tuple[float, float] = (0.2, 4.0),
             rock_abundance: float | None = None, roughness: bool = True) -> SyntheticTerrain:
    """Generate a seeded synthetic terrain of side ``size_m`` at ``resolution_m`` (≤ 0.5 m/px).

    ``seed``: int (recorded) or a ``numpy.random.Generator``. ``regional_slope_deg`` tilts the
    plane downhill toward ``regional_aspect_deg`` (azimuth from north, clockwise). Crater
    diameters default to [4 px, size_m/2]; rock diameters to [0.2, 4] m.
    """
    rng, seed_int = _generator(seed)
    if site_class not in SITE_CLASSES:
        raise TerrainError(f"must be one of {sorted(SITE_CLASSES)}", field="site_class", value=site_class)
    params = SITE_CLASSES[site_class]
    _check_positive("resolution_m", resolution_m, 0.5)
    _check_positive("size_m", size_m, 2000.0)
    n = round(size_m / resolution_m)
    if n < 8 or n > 8001:
        raise TerrainError(f"gives {n} pixels per side; allowed 8..8001", field="size_m", value=size_m)
    if not (np.isfinite(regional_slope_deg) and 0.0 <= regional_slope_deg < 45.0):
        raise TerrainError("must be within [0, 45) deg", field="regional_slope_deg", value=regional_slope_deg)
    k = params.rock_abundance if rock_abundance is None else float(rock_abundance)
    if not (0.0 < k <= 0.5):
        raise TerrainError("must be within (0, 0.5] (Golombek–Rapp model range)", field="rock_abundance",
                           value=rock_abundance)
    c_lo, c_hi = crater_diameter_range_m or (4.0 * resolution_m, 0.5 * size_m)
    if not (0 < c_lo < c_hi):
        raise TerrainError("needs 0 < min < max", field="crater_diameter_range_m", value=(c_lo, c_hi))
    r_lo, r_hi = rock_diameter_range_m
    if not (0 < r_lo < r_hi):
        raise TerrainError("needs 0 < min < max", field="rock_diameter_range_m", value=(r_lo, r_hi))

    axis = (np.arange(n) - 0.5 * (n - 1)) * resolution_m
    half = 0.5 * n * resolution_m
    x0 = y0 = float(axis[0])

    # Craters over the grid plus a margin of the largest ejecta reach.
    margin = EJECTA_EXTENT * 0.5 * c_hi
    craters = sample_craters(rng, params.crater_k, c_lo, c_hi, (-half - margin, half + margin),
                             (-half - margin, half + margin))
    reach = EJECTA_EXTENT * 0.5 * craters["diameter_m"]
    touching = (np.abs(craters["x_m"]) < half + reach) & (np.abs(craters["y_m"]) < half + reach)
    craters = craters[touching]
    rocks = sample_rocks(rng, k, r_lo, r_hi, (-half - 0.5 * r_hi, half + 0.5 * r_hi),
                         (-half - 0.5 * r_hi, half + 0.5 * r_hi))
    ground = np.zeros((n, n))
    if roughness:
        ground += fractal_surface(rng, n, n, resolution_m, params.hurst, params.rms_deviation_1m_m)
    _add_craters(ground, x0, y0, float(resolution_m), craters["x_m"].copy(), craters["y_m"].copy(),
                 0.5 * craters["diameter_m"], craters["depth_m"].copy(), craters["rim_height_m"].copy())
    az = np.deg2rad(regional_aspect_deg)
    grad = np.tan(np.deg2rad(regional_slope_deg))
    ground -= grad * (np.sin(az) * axis[None, :] + np.cos(az) * axis[:, None])  # downhill toward az
    layer = _rock_layer(np.zeros((n, n)), x0, y0, float(resolution_m), rocks["x_m"].copy(),
                        rocks["y_m"].copy(), 0.5 * rocks["diameter_m"], rocks["height_m"].copy())
    return SyntheticTerrain(axis.copy(), axis.copy(), ground + layer, ground, rocks, craters,
                            float(resolution_m), seed_int, site_class, (float(c_lo), float(c_hi)),
                            (float(r_lo), float(r_hi)))


def generate_memoised(rng: np.random.Generator, **inputs) -> SyntheticTerrain:
    """:func:`generate` from ``rng`` with ``inputs``, kept in the cache folder
    (:func:`~guanghan.environment.cache_files.memoised`) under the generator's state and the
    inputs: a later call with both the same loads the terrain (a 1,600-pixel square: ~40 ms
    against ~0.25 s) and leaves ``rng`` in the state :func:`generate` leaves it in, so whatever
    draws from it next draws the same numbers."""
    if not isinstance(rng, np.random.Generator):
        raise TerrainError("must be a numpy.random.Generator", field="rng", value=rng)

    def build():
        t = generate(rng, **inputs)
        arrays = {"x_m": t.x_m, "y_m": t.y_m, "height_m": t.height_m, "ground_m": t.ground_m,
                  "rocks": t.rocks, "craters": t.craters}
        return arrays, {"resolution_m": t.resolution_m, "site_class": t.site_class,
                        "crater_range_m": list(t.crater_diameter_range_m),
                        "rock_range_m": list(t.rock_diameter_range_m), "rng_after": rng.bit_generator.state}

    a, meta = cache_files.memoised("hover-terrain", (rng.bit_generator.state, sorted(inputs.items())), build)
    rng.bit_generator.state = meta["rng_after"]
    return SyntheticTerrain(a["x_m"], a["y_m"], a["height_m"], a["ground_m"], a["rocks"], a["craters"],
                            float(meta["resolution_m"]), None, meta["site_class"], tuple(meta["crater_range_m"]),
                            tuple(meta["rock_range_m"]))
