"""The spans of the data every computation draws on, and the check that an epoch lies inside them.

Sources: the DE440 planetary ephemeris, the DE440 lunar orientation, the ITRF93 Earth orientation
(historical and predicted EOP kernels of the ``naif-eop-*`` packages: beyond the historical data
SPICE uses the predicted kernel, which is what Guanghan uses; beyond both nothing is assumed), and
the observed records of the CelesTrak space-weather table of ``ssa-data-core`` (beyond
them the scenario must give the atmosphere drivers itself, no climatology is assumed).
:func:`require` raises :class:`DataSpanError` naming the source and its span.
"""

from __future__ import annotations

import datetime as dt
import functools

from guanghan.environment import spice_kernels, space_weather
from guanghan.errors import GuanghanError

SOURCES = ("ephemeris", "lunar_orientation", "earth_orientation", "space_weather")


class DataSpanError(GuanghanError):
    """An epoch lies outside the span of a data source; names the source and its span."""

    def __init__(self, source: str, name: str, start_utc: str, end_utc: str, utc: str, hint: str = ""):
        self.source, self.name, self.start_utc, self.end_utc, self.utc = source, name, start_utc, end_utc, utc
        super().__init__(f"{utc} is outside {name}, which covers {start_utc} to {end_utc}"
                         + (f"; {hint}" if hint else ""))


@functools.lru_cache(maxsize=None)
def span(source: str) -> tuple[float, float, str]:
    """(start ET, end ET, name) of ``source``."""
    if source == "ephemeris":
        c = spice_kernels.ephemeris_coverage()
    elif source == "lunar_orientation":
        c = spice_kernels.lunar_orientation_coverage()
    elif source == "earth_orientation":
        c = spice_kernels.earth_orientation_coverage()
        return c.start_et, c.end_et, f"{c.name} (historical and predicted EOP kernels)"
    elif source == "space_weather":
        lo, hi = space_weather._usable_span(False)          # the entry uses observed records
        first = space_weather._table().first
        start = dt.date.fromordinal(first + lo + 3).isoformat()      # 3 days of ap history needed
        end = dt.date.fromordinal(first + hi).isoformat()
        return (spice_kernels.utc_to_et(f"{start}T00:00:00"), spice_kernels.utc_to_et(f"{end}T23:59:59"),
                f"the observed records of the CelesTrak space-weather table ({space_weather.SW_FILE})")
    else:
        raise ValueError(f"unknown data source {source!r}; known: {SOURCES}")
    return c.start_et, c.end_et, c.name


def require(source: str, et0: float, et1: float | None = None, hint: str = "") -> None:
    """Raise DataSpanError unless [et0, et1] (ET s) lies inside ``source``'s span."""
    start, end, name = span(source)
    for et in (et0, et0 if et1 is None else et1):
        if not start <= et <= end:
            raise DataSpanError(source, name, spice_kernels.et_to_utc(start, 0),
                                spice_kernels.et_to_utc(end, 0), spice_kernels.et_to_utc(et, 0), hint)
