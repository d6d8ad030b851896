"""Lunar-descent leg: lander separation, orbit lowering, closed-loop powered descent with hazard
detection and avoidance, touchdown."""

from guanghan.mission.leg import register
from guanghan.mission.legs.lunar_descent.config import LunarDescentConfig
from guanghan.mission.legs.lunar_descent.flight import fly

LEG = register("lunar_descent", LunarDescentConfig, fly)
