"""Two-body orbital elements and the analytic Kepler solution.

Classical elements ⇄ Cartesian state (any central body, SI), and the universal-variable solution
of Kepler's problem used as independent truth for the numerical propagator.

Assumptions and limitations
    Classical elements are singular for circular (e = 0) and equatorial (i = 0) orbits; there
    the argument of periapsis (and node) are set to zero and the anomaly measured from the node (or
    the x axis), which round-trips the state exactly.

References
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (3rd ed.), Algorithm 4.2 (state →
    elements), Algorithm 4.5 (elements → state), Algorithm 3.4 and §3.7 (universal variable);
    Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), Algorithm 8 (KEPLER).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class Elements:
    """Osculating classical elements: a (m), e, i, raan, argp, nu (rad)."""

    a: float
    e: float
    i: float
    raan: float
    argp: float
    nu: float

    def period(self, mu: float) -> float:
        """Orbital period (s) for an ellipse."""
        return 2.0 * math.pi * math.sqrt(self.a ** 3 / mu)


def elements_to_state(mu: float, el: Elements) -> tuple[np.ndarray, np.ndarray]:
    """Position (m) and velocity (m/s) from elements; Curtis Algorithm 4.5."""
    p = el.a * (1.0 - el.e ** 2)
    if p <= 0.0:
        raise ValueError(f"semi-latus rectum {p} m is not positive (a={el.a} m, e={el.e})")
    cnu, snu = math.cos(el.nu), math.sin(el.nu)
    r_pf = p / (1.0 + el.e * cnu) * np.array([cnu, snu, 0.0])
    v_pf = math.sqrt(mu / p) * np.array([-snu, el.e + cnu, 0.0])
    rot = _perifocal_to_inertial(el.raan, el.i, el.argp)
    return rot @ r_pf, rot @ v_pf


def _perifocal_to_inertial(raan: float, inc: float, argp: float) -> np.ndarray:
    co, so = math.cos(raan), math.sin(raan)
    ci, si = math.cos(inc), math.sin(inc)
    cw, sw = math.cos(argp), math.sin(argp)
    return np.array([
        [co * cw - so * sw * ci, -co * sw - so * cw * ci, so * si],
        [so * cw + co * sw * ci, -so * sw + co * cw * ci, -co * si],
        [sw * si, cw * si, ci],
    ])


def state_to_elements(mu: float, r: np.ndarray, v: np.ndarray) -> Elements:
    """Elements from position (m) and velocity (m/s); Curtis Algorithm 4.2."""
    r = np.asarray(r, float)
    v = np.asarray(v, float)
    rn, vn = np.linalg.norm(r), np.linalg.norm(v)
    h = np.cross(r, v)
    hn = np.linalg.norm(h)
    inc = math.acos(max(-1.0, min(1.0, h[2] / hn)))
    node = np.cross([0.0, 0.0, 1.0], h)
    nn = np.linalg.norm(node)
    e_vec = ((vn ** 2 - mu / rn) * r - np.dot(r, v) * v) / mu
    e = float(np.linalg.norm(e_vec))
    energy = vn ** 2 / 2.0 - mu / rn
    a = -mu / (2.0 * energy)
    eps = 1e-11
    raan = math.atan2(node[1], node[0]) % (2 * math.pi) if nn > eps * hn else 0.0
    if e > eps:
        if nn > eps * hn:
            argp = _angle(node, e_vec, h)
        else:
            argp = math.atan2(e_vec[1], e_vec[0]) * (1 if h[2] >= 0 else -1) % (2 * math.pi)
        nu = _angle(e_vec, r, h)
    else:
        argp = 0.0
        ref = node if nn > eps * hn else np.array([1.0, 0.0, 0.0])
        nu = _angle(ref, r, h)
    return Elements(float(a), e, inc, raan, argp, nu)


def _angle(u: np.ndarray, w: np.ndarray, h: np.ndarray) -> float:
    """Angle (rad, [0, 2π)) from u to w measured positively about h."""
    ang = math.atan2(np.dot(np.cross(u, w), h) / np.linalg.norm(h), np.dot(u, w))
    return ang % (2 * math.pi)


@njit(cache=True)
def _stumpff_c(z):
    if z > 1e-8:
        return (1.0 - math.cos(math.sqrt(z))) / z
    if z < -1e-8:
        return (math.cosh(math.sqrt(-z)) - 1.0) / (-z)
    return 0.5 - z / 24.0 + z * z / 720.0


@njit(cache=True)
def _stumpff_s(z):
    if z > 1e-8:
        sz = math.sqrt(z)
        return (sz - math.sin(sz)) / sz ** 3
    if z < -1e-8:
        sz = math.sqrt(-z)
        return (math.sinh(sz) - sz) / sz ** 3
    return 1.0 / 6.0 - z / 120.0 + z * z / 5040.0


@njit(cache=True)
def kepler_universal(r0, v0, dt, mu):
    """Two-body state after ``dt`` (s) from r0 (m), v0 (m/s), ``mu`` (m³/s²).

    Universal-variable Newton iteration with Lagrange f, g: Curtis Algorithm 3.3/3.4, §3.7.
    """
    rn0 = math.sqrt(r0[0] ** 2 + r0[1] ** 2 + r0[2] ** 2)
    vr0 = (r0[0] * v0[0] + r0[1] * v0[1] + r0[2] * v0[2]) / rn0
    v2 = v0[0] ** 2 + v0[1] ** 2 + v0[2] ** 2
    alpha = 2.0 / rn0 - v2 / mu
    sqmu = math.sqrt(mu)
    chi = sqmu * abs(alpha) * dt
    if alpha <= 0.0:
        chi = sqmu * dt / rn0
    for _ in range(100):
        z = alpha * chi * chi
        c, s = _stumpff_c(z), _stumpff_s(z)
        f = rn0 * vr0 / sqmu * chi * chi * c + (1.0 - alpha * rn0) * chi ** 3 * s + rn0 * chi - sqmu * dt
        df = rn0 * vr0 / sqmu * chi * (1.0 - alpha * chi * chi * s) + (1.0 - alpha * rn0) * chi * chi * c + rn0
        step = f / df
        chi -= step
        if abs(step) < 1e-12 * max(1.0, abs(chi)):
            break
    z = alpha * chi * chi
    c, s = _stumpff_c(z), _stumpff_s(z)
    fl = 1.0 - chi * chi / rn0 * c
    gl = dt - chi ** 3 / sqmu * s
    r = fl * r0 + gl * v0
    rn = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
    fdot = sqmu / (rn * rn0) * (alpha * chi ** 3 * s - chi)
    gdot = 1.0 - chi * chi / rn * c
    v = fdot * r0 + gdot * v0
    return r, v
