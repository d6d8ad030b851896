"""Earth-entry leg: guided skip entry, parachutes and touchdown at an Earth site."""

from guanghan.mission.leg import register
from guanghan.mission.legs.earth_entry.config import EarthEntryConfig
from guanghan.mission.legs.earth_entry.flight import fly

LEG = register("earth_entry", EarthEntryConfig, fly)
