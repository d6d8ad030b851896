"""Lunar-ascent leg: lift-off, powered explicit guidance to the insertion orbit on IMU
navigation, and the same ascent steered from the ground for comparison."""

from guanghan.mission.leg import register
from guanghan.mission.legs.lunar_ascent.config import LunarAscentConfig
from guanghan.mission.legs.lunar_ascent.flight import fly

LEG = register("lunar_ascent", LunarAscentConfig, fly)
