"""Trans-Earth leg: TEI-1, TEI-2, midcourse corrections, separation and orbiter divert, to the EI."""

from guanghan.mission.leg import register
from guanghan.mission.legs.trans_earth.config import TransEarthConfig
from guanghan.mission.legs.trans_earth.flight import fly

LEG = register("trans_earth", TransEarthConfig, fly)
