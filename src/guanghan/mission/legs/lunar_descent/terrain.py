"""The synthetic hover-area terrain of a descent phase, from its configuration."""

from __future__ import annotations

import numpy as np

from guanghan.environment import synthetic_terrain


def synthetic_hover_terrain(config, seed_rng: np.random.Generator, slope_deg: float,
                            aspect_deg: float):
    """The seeded synthetic terrain of the hover area, tilted by the DEM's regional slope."""
    return synthetic_terrain.generate(seed_rng, site_class=config.site_class, size_m=config.area_m,
                                      resolution_m=config.resolution_m,
                                      regional_slope_deg=min(slope_deg, 44.0),
                                      regional_aspect_deg=aspect_deg)
