"""Lunar-orbit adjustment leg: from the capture ellipse into the low orbit whose plane holds the
landing site at the powered descent (circularisation on the chosen pass, then a plane trim)."""

from guanghan.mission.leg import register
from guanghan.mission.legs.lunar_orbit_adjustment.config import (
    LunarOrbitAdjustmentConfig,
)
from guanghan.mission.legs.lunar_orbit_adjustment.flight import fly

LEG = register("lunar_orbit_adjustment", LunarOrbitAdjustmentConfig, fly)
