"""Two-body conic geometry of a state: periapsis and its epoch, outgoing asymptote, B-plane.

Functions of one :class:`~guanghan.dynamics.state.SpacecraftState` and the central body's μ
(m³/s²): the osculating conic's periapsis radius and epoch (elliptic or hyperbolic Kepler equation),
the outgoing and incoming v∞ vectors of a hyperbola, and its B-plane vector and angle (of the
outgoing asymptote for a departure; of the incoming one, about a given pole, for an arrival).
Element conversions live in :mod:`guanghan.dynamics.kepler`.

Assumptions and limitations
    Osculating two-body quantities of the instantaneous state; parabolic orbits (e = 1) are not
    handled.

References
    Curtis, *Orbital Mechanics for Engineering Students*, eqs. 3.14 and 3.40 (Kepler's equation);
    Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), §6.4 (B-plane);
    Battin (1999), eq. 4.70 (asymptote direction).
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.dynamics.state import SpacecraftState


def hyperbola_periapsis(state: SpacecraftState, mu: float) -> tuple[float, float]:
    """Periapsis radius (m) and epoch (ET s) of the osculating two-body hyperbola of ``state``.

    Hyperbolic Kepler equation t - t_p = sqrt(-a³/μ) (e sinh F - F), Curtis eq. 3.40.
    """
    r, v = state.r, state.v
    rn = np.linalg.norm(r)
    a = 1.0 / (2.0 / rn - v @ v / mu)
    e_vec = ((v @ v - mu / rn) * r - (r @ v) * v) / mu
    e = float(np.linalg.norm(e_vec))
    if a >= 0.0 or e <= 1.0:
        return a * (1.0 - e), state.et                     # not hyperbolic: no periapsis epoch
    f = math.acosh(max(1.0, (1.0 - rn / a) / e)) * (1.0 if r @ v >= 0 else -1.0)
    return a * (1.0 - e), state.et - math.sqrt(-a ** 3 / mu) * (e * math.sinh(f) - f)


def conic_periapsis(state: SpacecraftState, mu: float) -> tuple[float, float]:
    """Periapsis radius (m) and next/last periapsis epoch (ET s) of the osculating conic (e ≠ 1).

    Kepler's equation, elliptic (Curtis eq. 3.14) or hyperbolic (eq. 3.40).
    """
    r, v = state.r, state.v
    rn = np.linalg.norm(r)
    a = 1.0 / (2.0 / rn - v @ v / mu)
    e = float(np.linalg.norm(((v @ v - mu / rn) * r - (r @ v) * v) / mu))
    sgn = 1.0 if r @ v >= 0 else -1.0
    if a < 0:
        return hyperbola_periapsis(state, mu)
    ecc_anom = math.acos(float(np.clip((1.0 - rn / a) / e, -1.0, 1.0))) * sgn
    return a * (1.0 - e), state.et - math.sqrt(a ** 3 / mu) * (ecc_anom - e * math.sin(ecc_anom))


def asymptote(state: SpacecraftState, mu: float) -> np.ndarray:
    """Outgoing v∞ vector (m/s, J2000) of the osculating hyperbola of ``state``.

    Direction S = cos ν∞ P + sin ν∞ Q with cos ν∞ = −1/e (Vallado §6.4 / Battin eq. 4.70)."""
    r, v = state.r, state.v
    rn = np.linalg.norm(r)
    vinf = math.sqrt(max(v @ v - 2.0 * mu / rn, 1e-6))
    h = np.cross(r, v)
    e_vec = ((v @ v - mu / rn) * r - (r @ v) * v) / mu
    e = np.linalg.norm(e_vec)
    p_hat, q_hat = e_vec / e, np.cross(h / np.linalg.norm(h), e_vec / e)
    cos_nu = -1.0 / max(e, 1.0 + 1e-9)
    return vinf * (cos_nu * p_hat + math.sqrt(1.0 - cos_nu ** 2) * q_hat)


def b_plane(state: SpacecraftState, mu: float) -> np.ndarray:
    """B-plane vector (B·T, B·R) (m) of the outgoing asymptote of ``state``'s osculating hyperbola.

    B = S × h / v∞, smooth through b = 0; T = unit(S × z_J2000), R = S × T (Vallado §6.4).
    """
    v_inf = asymptote(state, mu)
    vinf = np.linalg.norm(v_inf)
    s_hat = v_inf / vinf
    b_vec = np.cross(s_hat, np.cross(state.r, state.v)) / vinf
    t_hat = np.cross(s_hat, [0.0, 0.0, 1.0])
    t_hat /= np.linalg.norm(t_hat)
    return np.array([b_vec @ t_hat, b_vec @ np.cross(s_hat, t_hat)])


def b_plane_angle_of_plane(s_hat: np.ndarray, n_hat: np.ndarray) -> float:
    """B-plane angle (deg, as :func:`b_plane`) of the hyperbola with asymptote ``s_hat`` whose
    orbit normal is (the part normal to S of) ``n_hat``: B ∥ S × n, since h ∥ B × S."""
    b = np.cross(s_hat, n_hat)
    t_hat = np.cross(s_hat, [0.0, 0.0, 1.0])
    t_hat /= np.linalg.norm(t_hat)
    return math.degrees(math.atan2(b @ np.cross(s_hat, t_hat), b @ t_hat))


def incoming_asymptote(state: SpacecraftState, mu: float) -> np.ndarray:
    """Incoming v∞ vector (m/s, J2000) of the osculating hyperbola of ``state``: minus the outgoing
    asymptote of the time-reversed motion (same r, −v; same eccentricity vector, opposite h), i.e.
    S_in = P/e + sin ν∞ Q (Vallado §6.4)."""
    reverse = SpacecraftState(state.et, state.r, -state.v, state.mass, state.frame, state.body)
    return -asymptote(reverse, mu)


def b_plane_incoming(state: SpacecraftState, mu: float, pole: np.ndarray) -> np.ndarray:
    """B-plane vector (B·T, B·R) (m) of the INCOMING asymptote of ``state``'s osculating hyperbola,
    T = unit(S × pole), R = S × T, B = S × h / v∞ (Vallado §6.4, with the reference pole given: the
    lunar pole makes B·R measure the approach across the lunar equator)."""
    v_inf = incoming_asymptote(state, mu)
    vinf = np.linalg.norm(v_inf)
    s_hat = v_inf / vinf
    b_vec = np.cross(s_hat, np.cross(state.r, state.v)) / vinf
    t_hat = np.cross(s_hat, pole)
    t_hat /= np.linalg.norm(t_hat)
    return np.array([b_vec @ t_hat, b_vec @ np.cross(s_hat, t_hat)])
