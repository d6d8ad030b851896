"""Lambert's problem: the zero-revolution conic joining two positions in a given time.

Solved here, as nothing in the repository or its dependencies does (scipy has no orbit solvers;
the field's packages that do, poliastro/lamberthub, are unmaintained or not dependencies):
universal variables with bisection on ψ (Vallado 2013 Algorithm 58; Curtis 2020 Algorithm 5.2).

References
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications* (4th ed., 2013), Algorithm 58.
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), Algorithm 5.2.
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.dynamics.kepler import _stumpff_c, _stumpff_s
from guanghan.errors import InputError


def lambert(r1: np.ndarray, r2: np.ndarray, tof_s: float, mu: float,
            normal: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Velocities (m/s) at r1 and r2 (m) of the zero-revolution conic joining them in ``tof_s``
    (s); the transfer runs the short way if (r1 × r2)·normal ≥ 0 (default normal +z).

    Universal variables with bisection on ψ in [−4π, 4π²] (Vallado 2013 Algorithm 58): y(ψ) =
    r1 + r2 + A(ψ c3 − 1)/√c2, χ = √(y/c2), √μ Δt = χ³ c3 + A√y, then Lagrange f, g, ġ."""
    r1, r2 = np.asarray(r1, float), np.asarray(r2, float)
    n1, n2 = float(np.linalg.norm(r1)), float(np.linalg.norm(r2))
    normal = np.array([0.0, 0.0, 1.0]) if normal is None else np.asarray(normal, float)
    cos_dnu = float(r1 @ r2) / (n1 * n2)
    tm = 1.0 if float(np.cross(r1, r2) @ normal) >= 0.0 else -1.0
    A = tm * math.sqrt(n1 * n2 * (1.0 + cos_dnu))
    if abs(A) < 1e-9 * n1:
        raise InputError("the transfer angle is 180° (or 0°): the plane of the Lambert arc is "
                         "undefined", quantity="transfer_angle_deg", value=180.0)
    lo, hi = -4.0 * math.pi, 4.0 * math.pi ** 2
    sq_mu = math.sqrt(mu)
    y = 0.0
    for _ in range(200):
        psi = 0.5 * (lo + hi)
        c2, c3 = _stumpff_c(psi), _stumpff_s(psi)
        y = n1 + n2 + A * (psi * c3 - 1.0) / math.sqrt(c2)
        if A > 0.0 and y < 0.0:
            lo = psi
            continue
        chi = math.sqrt(y / c2)
        dt = (chi ** 3 * c3 + A * math.sqrt(y)) / sq_mu
        if dt <= tof_s:
            lo = psi
        else:
            hi = psi
        if abs(dt - tof_s) < 1e-10 * tof_s or hi - lo < 1e-14:
            break
    f, g, gdot = 1.0 - y / n1, A * math.sqrt(y / mu), 1.0 - y / n2
    return (r2 - f * r1) / g, (gdot * r2 - r1) / g
