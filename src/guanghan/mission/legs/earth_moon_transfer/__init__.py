"""Earth–Moon transfer leg: designed injection, midcourse corrections, lunar orbit insertion."""

from guanghan.mission.leg import register
from guanghan.mission.legs.earth_moon_transfer.config import EarthMoonTransferConfig
from guanghan.mission.legs.earth_moon_transfer.flight import fly

LEG = register("earth_moon_transfer", EarthMoonTransferConfig, fly)
