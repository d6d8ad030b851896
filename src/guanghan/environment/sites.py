"""A surface site: a point on the Moon or the Earth, as a configuration record.

Coordinates are planetocentric on the Moon (MOON_ME, heights over the 1737.4 km sphere) and
planetodetic on the Earth (ITRF93, heights over the ``pck00011.tpc`` ellipsoid); longitudes are
east-positive in (-180, 180].
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.environment.config_fields import Longitude


class Site(ConfigModel):
    """A surface point: body, latitude and longitude (deg), height (m) over the body's reference."""

    body: Literal["MOON", "EARTH"]
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: Longitude
    altitude_m: float = Field(default=0.0, ge=-20_000, le=20_000, description=(
        "a surface height within ±20 km of the reference (the Moon spans -9.1 to +10.8 km, the Earth "
        "-11 to +8.8 km)"))
