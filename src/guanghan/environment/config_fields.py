"""Configuration field types that need the environment: UTC epochs checked against the data spans,
east-positive longitudes.

``UtcText`` is an ISO-8601 UTC string with a ``Z``, checked against the span of the loaded
ephemeris and lunar orientation kernels; ``Longitude`` is east-positive in (-180, 180].
Problems are raised with :func:`guanghan.config_model.fail`, so they reach the user as one
ScenarioError naming the field.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from guanghan.config_model import UNSET, fail
from guanghan.environment import spice_kernels

_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$")


@functools.lru_cache(maxsize=1)
def _coverage_et() -> tuple[float, float, str]:
    """Common span (ET) of the planetary ephemeris and the lunar orientation kernel."""
    eph, ori = spice_kernels.ephemeris_coverage(), spice_kernels.lunar_orientation_coverage()
    start, end = max(eph.start_et, ori.start_et), min(eph.end_et, ori.end_et)
    span = f"{spice_kernels.et_to_utc(start, 0)} to {spice_kernels.et_to_utc(end, 0)}"
    return start, end, f"{eph.name} and {ori.name} cover {span}"


def check_et_in_span(et: float, field: str | None = None, value: Any = UNSET) -> None:
    """Fail (validator error) if ``et`` (s past J2000 TDB) is outside the ephemeris span."""
    start, end, text = _coverage_et()
    if not start <= et <= end:
        fail(f"epoch outside the ephemeris span: {text}", field, value)


_OFFSET_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)([+-]\d{2}:\d{2})$")


def _datetime_to_utc_text(value: Any) -> Any:
    """A TOML date-time, or a string with an explicit UTC offset (``+08:00``), as ``…Z`` text."""
    if isinstance(value, str) and _OFFSET_RE.match(value) and ":60" not in value:
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError as exc:
            fail(f"malformed date-time: {exc}")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            fail("a date-time needs an explicit UTC offset; write it as \"YYYY-MM-DDTHH:MM:SSZ\"")
        utc = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return utc.isoformat() + "Z"
    return value


def _check_leap_second(text: str, et: float) -> None:
    """A ``:60`` second must be a leap second of the leap-seconds kernel (the next day's 00:00:00
    then comes one second after it); elsewhere SPICE would silently read it as that 00:00:00."""
    day = _dt.date.fromisoformat(text[:10]) + _dt.timedelta(days=1)
    leap_start = spice_kernels.utc_to_et(f"{day.isoformat()}T00:00:00") - 1.0
    if abs(leap_start + (float(text[17:-1]) - 60.0) - et) > 1e-6:
        fail(f"{text[:10]} ends without a leap second (leap seconds are inserted on the dates the "
             "IERS announces; this one is not in the leap-seconds kernel)")


def utc_text_to_et(text: str) -> float:
    """ET (s past J2000 TDB) of a configuration UTC string; raises the validator error of ``fail``."""
    if not _UTC_RE.match(text):
        fail("malformed UTC: write ISO-8601 with a Z, e.g. \"2020-11-29T12:40:00Z\"")
    try:
        _dt.datetime.fromisoformat(text[:-1].replace(":60", ":59"))
    except ValueError as exc:
        fail(f"malformed UTC: {exc}")
    try:
        et = spice_kernels.utc_to_et(text)
    except ValueError as exc:
        fail(f"malformed UTC: {exc}")
    if text[17:19] == "60":
        _check_leap_second(text, et)
    return et


def _check_utc(text: str) -> str:
    check_et_in_span(utc_text_to_et(text))
    return text


UtcText = Annotated[str, BeforeValidator(_datetime_to_utc_text), AfterValidator(_check_utc)]


def check_lon(lon_deg: float) -> float:
    """``lon_deg`` if east-positive in (-180, 180], else the error with the wrapped value to write."""
    if not -180.0 < lon_deg <= 180.0:
        wrapped = round((lon_deg + 180.0) % 360.0 - 180.0, 10)
        wrapped = 180.0 if wrapped == -180.0 else wrapped
        fail(f"longitude must be east-positive in (-180, 180] deg; write {wrapped}")
    return lon_deg


Longitude = Annotated[float, AfterValidator(check_lon)]
