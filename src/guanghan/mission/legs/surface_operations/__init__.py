"""Surface-operations leg: sunlight, temperatures, links, drilling and scooping on a solved
timeline, the flag, from the touchdown to the lift-off."""

from guanghan.mission.leg import register
from guanghan.mission.legs.surface_operations.config import SurfaceOperationsConfig
from guanghan.mission.legs.surface_operations.flight import fly

LEG = register("surface_operations", SurfaceOperationsConfig, fly)
