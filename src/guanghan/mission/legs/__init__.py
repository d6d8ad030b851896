"""The built-in legs; importing this package registers them (see :mod:`guanghan.mission.leg`)."""

from guanghan.mission.legs import earth_entry, lunar_descent, lunar_orbit_coast, surface_operations, trans_earth  # noqa: F401
