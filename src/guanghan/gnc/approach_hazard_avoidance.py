"""Coarse hazard avoidance in the approach: the ``choose_approach_site`` callback of the descent.

Chang'e-3 to -6 avoid hazards twice: in the approach (from ~2 km) the descent camera's image
picks a safe *area*, and the approach is re-targeted over it; at the ~100 m hover the 3-D lidar
picks the touchdown point inside that area (:mod:`guanghan.gnc.hover_hazard_avoidance`)
(Zhang et al. 2014; Li, Jiang & Tao 2016). :class:`ApproachHazardDetection` does the first step:

1. The camera's ground sample distance at the decision height h is GSD = h × IFOV (m; the
   instantaneous field of view in rad), never finer than the terrain grid.
2. Hazards it resolves are mapped with :func:`guanghan.gnc.hazard_detection.detect_hazards` on
   the terrain window it sees, sampled at the GSD with Gaussian height noise σ: footprint slopes
   at that scale (crater walls, steep ground), residuals above the footprint plane larger than
   the lander's clearance (big rocks, rims) and cast shadows at the Sun of the decision epoch.
3. Every candidate hover point within the coarse divert radius of the current aim is scored by
   the fraction of hazard-free ground within the hover's divert radius around it (hazard-free
   pixels counted exactly over the disc, :func:`safe_area_fraction`; ground outside the image
   counts as hazardous) — the room the fine avoidance at the hover will have.
4. The chosen point is the nearest to the aim that is itself hazard-free and scores within
   ``score_tolerance`` of the best score in reach (no detour for a negligible gain).

Assumptions and limitations
    * The camera's hazard cues (shading, shadows, texture) are modelled as a noisy height map at
      the GSD: a stand-in for the flight's image processing, whose algorithms are not public.
      Height noise σ and IFOV are scenario values (modelling choices).
    * Nadir view of the whole window, no motion blur; the site offset is then measured
      terrain-relative by the camera (the descent loop adds its tracking noise).
    * The scoring rule (step 3–4) is a modelling choice; Zhang et al. 2014 describe choosing the
      area with the most safe ground, without a published formula.

References
    Zhang, H. et al. (2014), "Autonomous hazard avoidance control for Chang'E-3 soft landing",
    Sci. Sin. Technol. 44(6) (coarse avoidance in the approach from optical images, fine
    avoidance at the hover from 3-D imaging). Li, S., Jiang, X., Tao, T. (2016), J. Guid. Control
    Dyn. 39(2) (the Chang'e-3 approach phase from ~2 km and the hover at ~100 m).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from guanghan.environment.synthetic_terrain import SyntheticTerrain, crop
from guanghan.gnc.hazard_detection import HdaResult, detect_hazards
from guanghan.gnc.hover_hazard_avoidance import sun_elevation_azimuth

#: the coarse-map series keeps every n-th camera pixel
MAP_DECIMATION = 2


def safe_area_fraction(hazard: np.ndarray, resolution_m: float, radius_m: float) -> np.ndarray:
    """For every pixel, the fraction of the disc of ``radius_m`` (m) around it that is hazard-free;
    ground outside the map counts as hazardous.

    The disc is the pixels with dx² + dy² ≤ r² (r = radius / resolution, rounded, ≥ 1); its count
    is summed row by row from cumulative sums along the rows (O(pixels × (2r + 1)), exact integer
    counts). Hand-written rather than ``scipy.signal.fftconvolve`` (the same sums up to FFT
    rounding): importing ``scipy.signal`` costs ~0.2 s of every run's start-up, for this one call.
    """
    r = max(int(round(radius_m / resolution_m)), 1)
    ny, nx = hazard.shape
    free = np.zeros((ny + 2 * r, nx + 2 * r + 1))
    free[r:r + ny, r + 1:r + 1 + nx] = ~hazard                # zero border: outside is hazardous
    cum = np.cumsum(free, axis=1)                              # cum[:, c] = sum of columns < c
    count = np.zeros((ny, nx))
    n_disc = 0
    for dy in range(-r, r + 1):
        w = math.isqrt(r * r - dy * dy)                        # half-width of the disc's row dy
        rows = cum[r + dy:r + dy + ny]
        count += rows[:, r + w + 1:r + w + 1 + nx]             # columns x - w .. x + w
        count -= rows[:, r - w:r - w + nx]
        n_disc += 2 * w + 1
    return count / n_disc


class ApproachHazardDetection:
    """The ``choose_approach_site`` callback; keeps the coarse hazard map, the scores and the Sun."""

    def __init__(self, terrain: SyntheticTerrain, config, lat_deg: float, lon_deg: float,
                 height_m: float, et0: float, rng: np.random.Generator):
        """``terrain``: the true terrain of the landing area; ``config``: the hazard-detection
        settings (``coarse_divert_radius_m``, ``coarse_ifov_mrad``, ``coarse_height_noise_m``,
        ``coarse_score_tolerance``, and the hover's ``divert_radius_m``, footprint, clearance,
        slope limit and margin, shadow limit); the site (deg, m); the descent's start epoch (ET
        s); the generator of the camera noise."""
        self.terrain, self.cfg, self.rng = terrain, config, rng
        self.site = (lat_deg, lon_deg, height_m)
        self.et0 = et0
        self.result: HdaResult | None = None
        self.score: np.ndarray | None = None
        self.sun = (float("nan"), float("nan"))
        self.gsd_m = float("nan")
        self.t_s = None
        self.chosen = (float("nan"), float("nan"))
        self.figures: dict = {}

    def __call__(self, estimate) -> tuple[float, float]:
        c = self.cfg
        self.t_s = estimate.t_s
        height = max(float(estimate.height_over_terrain_m), 1.0)
        self.gsd_m = max(height * c.coarse_ifov_mrad * 1e-3, self.terrain.resolution_m)
        self.sun = sun_elevation_azimuth(*self.site, self.et0 + estimate.t_s)
        ax, ay = (float(a) for a in estimate.aim_east_north_m)
        half = c.coarse_divert_radius_m + c.divert_radius_m + c.footprint_diameter_m + self.gsd_m
        window = crop(self.terrain, ax, ay, half)
        res = detect_hazards(
            window, divert_radius_m=c.coarse_divert_radius_m, sun_elevation_deg=self.sun[0],
            sun_azimuth_deg=self.sun[1], aim_x_m=ax, aim_y_m=ay, lidar_resolution_m=self.gsd_m,
            range_noise_m=c.coarse_height_noise_m, footprint_diameter_m=c.footprint_diameter_m,
            clearance_m=c.clearance_m, slope_limit_deg=c.slope_limit_deg,
            slope_margin_deg=c.slope_margin_deg, roughness_threshold_m=c.clearance_m,
            site_margin_m=0.0, max_shadow_fraction=c.max_shadow_fraction, seed=self.rng)
        score = safe_area_fraction(res.hazard, res.x_m[1] - res.x_m[0], c.divert_radius_m)
        xx, yy = np.meshgrid(res.x_m, res.y_m)
        d_aim = np.hypot(xx - ax, yy - ay)
        reach = d_aim <= max(c.coarse_divert_radius_m, float(d_aim.min()))   # ≥ the aim's pixel
        usable = reach & ~res.hazard
        if usable.any():
            best = float(score[usable].max())
            good = usable & (score >= best - c.coarse_score_tolerance)
            i, j = np.unravel_index(int(np.argmin(np.where(good, d_aim, np.inf))), d_aim.shape)
        else:                                   # nothing clear in reach: the best-scored point
            best = float(score[reach].max())
            i, j = np.unravel_index(int(np.argmax(np.where(reach, score, -1.0))), score.shape)
        self.result, self.score = res, score
        i0, j0 = np.unravel_index(int(np.argmin(d_aim)), d_aim.shape)
        self.chosen = (float(res.x_m[j]), float(res.y_m[i]))
        self.figures = {"gsd_m": self.gsd_m, "score": float(score[i, j]), "best_score": best,
                        "aim_score": float(score[i0, j0]),
                        "retarget_m": math.hypot(self.chosen[0] - ax, self.chosen[1] - ay),
                        "hazard_fraction": float(res.hazard[reach].mean())}
        return self.chosen

    def map_table(self) -> pa.Table:
        """The coarse hazard map on the camera's grid (every other pixel): position, sensed
        height, footprint slope, hazard, and the safe-area fraction around each point."""
        r, k = self.result, MAP_DECIMATION
        xx, yy = np.meshgrid(r.x_m[::k], r.y_m[::k])
        cut = (slice(None, None, k), slice(None, None, k))
        return pa.table({"east_m": xx.ravel(), "north_m": yy.ravel(),
                         "height_m": r.sensed_height_m[cut].ravel(),
                         "slope_deg": r.slope_deg[cut].ravel(), "shadow": r.shadow[cut].ravel(),
                         "hazard": r.hazard[cut].ravel(),
                         "safe_area_fraction": self.score[cut].ravel()})
