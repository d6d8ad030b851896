"""Eclipses: the visible fraction of the solar disc past spherical occulters (conical model).

:func:`shadow_fraction` is the kernel the force model's SRP calls every evaluation;
:func:`sunlit_fractions` applies it to many positions in one compiled call (trajectory tables).

References
    Montenbruck, O. and Gill, E., *Satellite Orbits* (2000), §3.4.2, eqs. 3.79–3.83 (conical
    shadow model: apparent radii, separation, and the overlap of two discs).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from guanghan.environment.constants import SUN_RADIUS


@njit(cache=True)
def shadow_fraction(r_sc, r_sun, r_occ, radius_occ):
    """Fraction (0..1) of the solar disc visible from r_sc past a spherical occulter at r_occ.

    Conical model, Montenbruck & Gill §3.4.2 (eqs. 3.79–3.83). Positions in m, any common origin.
    """
    sx, sy, sz = r_sun[0] - r_sc[0], r_sun[1] - r_sc[1], r_sun[2] - r_sc[2]
    dx, dy, dz = r_occ[0] - r_sc[0], r_occ[1] - r_sc[1], r_occ[2] - r_sc[2]
    ns = math.sqrt(sx * sx + sy * sy + sz * sz)
    nd = math.sqrt(dx * dx + dy * dy + dz * dz)
    if nd <= radius_occ:
        return 0.0
    a = math.asin(min(1.0, SUN_RADIUS / ns))                  # apparent radius of the Sun
    b = math.asin(min(1.0, radius_occ / nd))                  # apparent radius of the occulter
    cosc = (sx * dx + sy * dy + sz * dz) / (ns * nd)
    c = math.acos(max(-1.0, min(1.0, cosc)))                  # apparent separation
    if c >= a + b:
        return 1.0
    if c <= b - a:
        return 0.0                                            # umbra
    if c <= a - b:
        return 1.0 - (b * b) / (a * a)                        # annular
    x = (c * c + a * a - b * b) / (2.0 * c)
    y = math.sqrt(max(0.0, a * a - x * x))
    area = a * a * math.acos(max(-1.0, min(1.0, x / a))) + b * b * math.acos(
        max(-1.0, min(1.0, (c - x) / b))) - c * y             # eq. 3.83
    return 1.0 - area / (math.pi * a * a)


@njit(cache=True)
def sunlit_fractions(r, sun, own_radius, occulters, occulter_radii):
    """Visible fraction of the solar disc at each of the positions ``r`` (n, 3) (m, relative to
    the central body, which occults as a sphere of ``own_radius[i]`` m at the origin), with the Sun
    at ``sun`` (n, 3) and other occulting spheres at ``occulters`` (k, n, 3) of radii
    ``occulter_radii`` (k,) (m), all in one frame: the least over the occulters of
    :func:`shadow_fraction`."""
    n = r.shape[0]
    out = np.empty(n)
    origin = np.zeros(3)
    for i in range(n):
        nu = shadow_fraction(r[i], sun[i], origin, own_radius[i])
        for j in range(occulters.shape[0]):
            nu = min(nu, shadow_fraction(r[i], sun[i], occulters[j, i], occulter_radii[j]))
        out[i] = nu
    return out
