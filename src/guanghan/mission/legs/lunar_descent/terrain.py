"""The synthetic hover-area terrain of a descent phase, from its configuration."""

from __future__ import annotations

import numpy as np

from guanghan.environment import synthetic_terrain


def synthetic_hover_terrain(config, seed_rng: np.random.Generator, slope_deg: float,
                            aspect_deg: float, keep: bool = False):
    """The seeded synthetic terrain of the hover area, tilted by the DEM's regional slope; with
    ``keep`` kept in the cache folder for a later run from the same seed (a run flown again from
    its design), which a campaign sample, with its own seed, does not need."""
    make = synthetic_terrain.generate_memoised if keep else synthetic_terrain.generate
    return make(seed_rng, site_class=config.site_class, size_m=config.area_m,
                resolution_m=config.resolution_m, regional_slope_deg=min(slope_deg, 44.0),
                regional_aspect_deg=aspect_deg)
