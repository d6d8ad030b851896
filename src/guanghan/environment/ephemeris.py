"""Positions and velocities of the Sun, Earth and Moon from DE440, vectorised over epochs.

Thin, validated wrappers over ``spice_kernels`` (geometric states, no light-time or aberration
correction, as dynamics need). Positions in m, velocities in m/s, epochs in ET (TDB s past J2000).

Assumptions and limitations
    DE440 spans 1550–2650; outside that an :class:`~guanghan.errors.EphemerisRangeError` names the
    body, the epoch and the span.

References
    Park, R. S. et al. (2021), "The JPL Planetary and Lunar Ephemerides DE440 and DE441",
    Astron. J. 161:105.
"""

from __future__ import annotations

import numpy as np

from guanghan.environment import spice_kernels
from guanghan.environment.constants import SPEED_OF_LIGHT
from guanghan.errors import EphemerisRangeError



def check_span(ets: np.ndarray, what: str = "DE440") -> None:
    """Raise :class:`EphemerisRangeError` if any epoch lies outside the ephemeris and lunar PCK."""
    ets = np.atleast_1d(ets)
    for cov in (spice_kernels.ephemeris_coverage(), spice_kernels.lunar_orientation_coverage()):
        if not cov.contains(float(ets.min()), float(ets.max())):
            bad = ets.min() if ets.min() < cov.start_et else ets.max()
            raise EphemerisRangeError(cov.name if what == "DE440" else what,
                                      spice_kernels.et_to_utc(bad, 0),
                                      spice_kernels.et_to_utc(cov.start_et, 0),
                                      spice_kernels.et_to_utc(cov.end_et, 0))


def state(target: str, center: str, ets, frame: str = "J2000") -> np.ndarray:
    """State (m, m/s) of ``target`` relative to ``center`` in ``frame``; shape (n, 6)."""
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    check_span(ets)
    return spice_kernels.body_states(target, center, frame, ets)


def position(target: str, center: str, ets, frame: str = "J2000") -> np.ndarray:
    """Position (m) of ``target`` relative to ``center`` in ``frame``; shape (n, 3)."""
    ets = np.atleast_1d(np.asarray(ets, dtype=float))
    check_span(ets)
    return spice_kernels.body_positions(target, center, frame, ets)


def light_time(target: str, observer: str, et: float) -> float:
    """One-way geometric light time (s) between two bodies at ``et`` (no aberration)."""
    r = position(target, observer, [et])[0]
    return float(np.linalg.norm(r) / SPEED_OF_LIGHT)
