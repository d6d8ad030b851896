"""Lunar-orbit coast leg: unpowered flight in the full lunar force model, logging what a planner needs."""

from guanghan.mission.leg import register
from guanghan.mission.legs.lunar_orbit_coast.config import LunarOrbitCoastConfig
from guanghan.mission.legs.lunar_orbit_coast.flight import fly

LEG = register("lunar_orbit_coast", LunarOrbitCoastConfig, fly)
