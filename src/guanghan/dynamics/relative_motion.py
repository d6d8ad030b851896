"""Relative motion about a circular target orbit, nonlinear: the rendezvous filter's dynamics.

In the target's Hill frame (x radial, y along-track, z normal; m, m/s) the chaser's relative
state obeys ẍ = 2nẏ + n²(r + x) − μ(r + x)/R³, ÿ = −2nẋ + n²y − μy/R³, z̈ = −μz/R³ with μ = n²r³
and R the chaser's distance from the centre (Curtis 2020 §7.3, before linearisation; the
Clohessy–Wiltshire equations are its first order). :func:`nonlinear_circular` integrates it by
fixed RK4 steps of at most 10 s, compiled (the filter calls it twice a step).

References
    Curtis, H. D. (2020), *Orbital Mechanics for Engineering Students*, 4th ed., §7.3.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


def nonlinear_circular(x: np.ndarray, dt: float, n: float, r: float) -> np.ndarray:
    """Relative state after ``dt`` s of the nonlinear relative motion about a circular target
    orbit of radius ``r`` (m): ẍ = 2nẏ + n²(r + x) − μ(r + x)/R³, ÿ = −2nẋ + n²y − μy/R³,
    z̈ = −μz/R³, μ = n²r³ (Curtis 2020 §7.3, before linearisation); RK4 steps of ≤ 10 s."""
    return _circular_rk4(np.ascontiguousarray(x, dtype=np.float64), float(dt), float(n), float(r))


@njit(cache=True)
def _circular_accel(s, n, n2, mu, r, out):
    """out = ds/dt of :func:`nonlinear_circular`'s equations at ``s``."""
    px = s[0] + r
    py, pz = s[1], s[2]
    k = mu / (px * px + py * py + pz * pz) ** 1.5
    out[0], out[1], out[2] = s[3], s[4], s[5]
    out[3] = 2 * n * s[4] + (n2 - k) * px
    out[4] = -2 * n * s[3] + (n2 - k) * py
    out[5] = -k * pz


@njit(cache=True)
def _circular_rk4(x, dt, n, r):
    mu = n * n * r ** 3
    n2 = n * n
    x = x.copy()
    if dt <= 0.0:
        return x
    steps = max(1, math.ceil(abs(dt) / 10.0))
    h = dt / steps
    k1, k2, k3, k4, tmp = np.empty(6), np.empty(6), np.empty(6), np.empty(6), np.empty(6)
    for _ in range(steps):
        _circular_accel(x, n, n2, mu, r, k1)
        for i in range(6):
            tmp[i] = x[i] + 0.5 * h * k1[i]
        _circular_accel(tmp, n, n2, mu, r, k2)
        for i in range(6):
            tmp[i] = x[i] + 0.5 * h * k2[i]
        _circular_accel(tmp, n, n2, mu, r, k3)
        for i in range(6):
            tmp[i] = x[i] + h * k3[i]
        _circular_accel(tmp, n, n2, mu, r, k4)
        c = h / 6.0
        for i in range(6):
            x[i] = x[i] + c * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])
    return x
