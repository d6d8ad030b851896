"""Hazard avoidance at the hover: the ``choose_site`` callback of the powered descent.

:class:`HoverHazardDetection` maps the hover area with the lidar
(:func:`guanghan.gnc.hazard_detection.detect_hazards`, with the Sun's elevation and azimuth at the
decision epoch) and returns the safe site nearest the aim point within the divert radius; it keeps
the map for the report.

Assumptions and limitations
    The lidar maps the square of half-side divert radius + footprint around the current aim (the
    site, or the approach's coarse choice, :mod:`guanghan.gnc.approach_hazard_avoidance`), not
    around the point under the lander, which hovers within its navigation error (metres to tens of
    metres) of it; no field-of-view or slant geometry.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.environment.synthetic_terrain import crop
from guanghan.gnc.hazard_detection import detect_hazards
from guanghan.gnc.landing_site_ranking import body_elevation_azimuth_deg

#: the hazard-map series keeps every n-th lidar pixel
MAP_DECIMATION = 8


def sun_elevation_azimuth(lat_deg: float, lon_deg: float, height_m: float, et: float):
    """(elevation, azimuth) of the Sun's centre (deg, azimuth clockwise from north) at a site."""
    el, az = body_elevation_azimuth_deg("SUN", lat_deg, lon_deg, [et], height_m)
    return float(el[0, 0]), float(az[0, 0])


class HoverHazardDetection:
    """The ``choose_site`` callback; keeps the hazard map (``result``) and the Sun used."""

    def __init__(self, terrain, config, lat_deg: float, lon_deg: float, height_m: float,
                 et0: float, rng: np.random.Generator):
        """``terrain``: the true terrain of the hover area; ``config``: the hazard-detection
        settings (divert_radius_m, lidar_resolution_m, range_noise_m, footprint_diameter_m,
        clearance_m, slope_limit_deg, slope_margin_deg, site_margin_m, max_shadow_fraction);
        the site (deg, m); the descent's start epoch (ET s); the generator of the lidar noise."""
        self.terrain, self.cfg, self.rng = terrain, config, rng
        self.site = (lat_deg, lon_deg, height_m)
        self.et0 = et0
        self.result = None
        self.sun = (float("nan"), float("nan"))
        self.t_s = None

    def __call__(self, estimate) -> tuple[float, float]:
        c = self.cfg
        self.t_s = estimate.t_s
        self.sun = sun_elevation_azimuth(*self.site, self.et0 + estimate.t_s)
        ax, ay = (float(a) for a in estimate.aim_east_north_m)
        window = crop(self.terrain, ax, ay,
                      c.divert_radius_m + c.footprint_diameter_m + c.lidar_resolution_m)
        self.result = detect_hazards(
            window, divert_radius_m=c.divert_radius_m, sun_elevation_deg=self.sun[0],
            sun_azimuth_deg=self.sun[1], aim_x_m=ax, aim_y_m=ay,
            lidar_resolution_m=c.lidar_resolution_m,
            range_noise_m=c.range_noise_m, footprint_diameter_m=c.footprint_diameter_m,
            clearance_m=c.clearance_m, slope_limit_deg=c.slope_limit_deg,
            slope_margin_deg=c.slope_margin_deg, site_margin_m=c.site_margin_m,
            max_shadow_fraction=c.max_shadow_fraction, seed=self.rng)
        return self.result.chosen_x_m, self.result.chosen_y_m

    def map_table(self) -> pa.Table:
        """The hazard map, every ``MAP_DECIMATION``-th lidar pixel: position, sensed height,
        footprint slope and roughness, shadow, hazard, safe."""
        r = self.result
        k = MAP_DECIMATION
        xx, yy = np.meshgrid(r.x_m[::k], r.y_m[::k])
        cut = (slice(None, None, k), slice(None, None, k))
        return pa.table({
            "east_m": xx.ravel(), "north_m": yy.ravel(),
            "height_m": r.sensed_height_m[cut].ravel(), "slope_deg": r.slope_deg[cut].ravel(),
            "roughness_m": r.roughness_m[cut].ravel(), "shadow": r.shadow[cut].ravel(),
            "hazard": r.hazard[cut].ravel(), "safe": r.safe[cut].ravel()})
