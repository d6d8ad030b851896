"""The built-in legs; importing this package registers them (see :mod:`guanghan.mission.leg`)."""

from guanghan.mission.legs import (  # noqa: F401
    earth_entry,
    earth_moon_transfer,
    lunar_ascent,
    lunar_descent,
    lunar_orbit_adjustment,
    lunar_orbit_coast,
    lunar_rendezvous,
    surface_operations,
    trans_earth,
)
