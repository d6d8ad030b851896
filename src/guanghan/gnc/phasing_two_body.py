"""Two-body design of the far-range phasing (:mod:`guanghan.gnc.rendezvous_phasing`): the burn
sequence on Kepler orbits that :func:`~guanghan.gnc.rendezvous_phasing.design_phasing` then
re-targets on the full force model.

Burn 1, at an apoapsis of the insertion orbit after ``first_burn_delay_s``, along the velocity,
moves the opposite apsis to the phasing radius r_ph; for N = 4 burn 2 circularises there half a
transfer orbit later (Hohmann, Curtis 2020 §6.2). r_ph sets the phasing rate (Vallado 2013 §6.6):
it is solved (Brent) so that after m whole revolutions the chaser reaches the departure point of
the final transfer, θ_L short of the hand-over direction; of the roots within the altitude bounds
the one of least Δv is kept. The last two burns are the Lambert arc over θ_L and the match of the
hand-over velocity, that of a coelliptic orbit (:func:`handover_aim`).

References
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications* (4th ed., 2013), §6.6.
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), §6.2 (Hohmann
    transfer), eq. 2.71 (vis-viva), Algorithm 3.1 (Kepler's equation).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq

from guanghan.dynamics.kepler import kepler_universal, state_to_elements
from guanghan.dynamics.lambert import lambert
from guanghan.dynamics.vector3 import cross, norm
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.gnc import relative_navigation as rn

if TYPE_CHECKING:
    from guanghan.gnc.rendezvous_phasing import PhasingPlan


def kepler_state(x: np.ndarray, dt: float, mu: float) -> np.ndarray:
    """State [r (m), v (m/s)] ``dt`` s after ``x`` on its Kepler orbit (universal variables)."""
    if dt == 0.0:
        return np.asarray(x, float).copy()
    r, v = kepler_universal(np.ascontiguousarray(x[:3]), np.ascontiguousarray(x[3:6]), dt, mu)
    return np.concatenate([r, v])


def handover_aim(plan: PhasingPlan, target_rv: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """(aim relative state in the target's Hill frame, the chaser's inertial state there)."""
    dr = plan.handover_radial_km * 1e3
    n = rn.mean_motion(target_rv, mu)
    rel = np.array([dr, plan.handover_along_track_km * 1e3, 0.0, 0.0, rn.coelliptic_drift_m_s(n, dr), 0.0])
    return rel, rn.chaser_from_relative(target_rv, rel)


def circular_velocity(x: np.ndarray, mu: float) -> np.ndarray:
    """Velocity (m/s) of the circular orbit through x's position, in x's orbit plane."""
    u = cross(cross(x[:3], x[3:6]), x[:3])
    return math.sqrt(mu / norm(x[:3])) * u / norm(u)


def _true_anomaly_unwrapped(m_total: float, e: float) -> float:
    """True anomaly (rad), unwrapped across revolutions, at total mean anomaly ``m_total``
    (Kepler's equation by Newton's method)."""
    k = math.floor(m_total / (2 * math.pi))
    m = m_total - 2 * math.pi * k
    E = m if e < 0.8 else math.pi
    for _ in range(50):
        dE = (E - e * math.sin(E) - m) / (1.0 - e * math.cos(E))
        E -= dE
        if abs(dE) < 1e-13:
            break
    nu = 2.0 * math.atan2(math.sqrt(1 + e) * math.sin(E / 2), math.sqrt(1 - e) * math.cos(E / 2))
    return 2 * math.pi * k + (nu % (2 * math.pi))


def angle_about(a: np.ndarray, b: np.ndarray, h: np.ndarray) -> float:
    """Angle (rad, [0, 2π)) from a to b about the axis h (projections on the plane ⊥ h)."""
    h = h / np.linalg.norm(h)
    return math.atan2(float(np.cross(a, b) @ h), float(a @ b - (a @ h) * (b @ h))) % (2 * math.pi)


def _phasing_sequence(x1: np.ndarray, r_ph: float, t1: float, t_arr: float, r_h: float,
                      theta_l: float, n_burns: int, mu: float):
    """Two-body phasing from the apsis state ``x1`` at ``t1``: ([(epoch, Δv vector)], departure
    epoch t_L of the final transfer, chaser state then, angle swept from t1 to t_L (rad)).

    Burn 1 along the velocity to the apsis r_ph (vis-viva, Curtis eq. 2.71); for N = 4 burn 2
    circularises half a transfer orbit later. t_L = t_arr − θ_L / n at the mean radius of the
    final transfer."""
    r1 = float(np.linalg.norm(x1[:3]))
    vhat = x1[3:6] / np.linalg.norm(x1[3:6])
    dv1 = (math.sqrt(mu * (2.0 / r1 - 2.0 / (r1 + r_ph))) - float(np.linalg.norm(x1[3:6]))) * vhat
    a_tr = 0.5 * (r1 + r_ph)
    t_l = t_arr - theta_l / math.sqrt(mu / (0.5 * (r_ph + r_h)) ** 3)
    xa = x1 + np.concatenate([np.zeros(3), dv1])
    burns = [(t1, dv1)]
    if n_burns == 4:
        t2 = t1 + math.pi * math.sqrt(a_tr ** 3 / mu)
        x2 = kepler_state(xa, t2 - t1, mu)
        v_circ = circular_velocity(x2, mu)
        burns.append((t2, v_circ - x2[3:6]))
        x_l = kepler_state(np.concatenate([x2[:3], v_circ]), t_l - t2, mu)
        swept = math.pi + math.sqrt(mu / r_ph ** 3) * (t_l - t2)
    else:
        x_l = kepler_state(xa, t_l - t1, mu)
        m0 = math.pi if r_ph < r1 else 0.0
        swept = _true_anomaly_unwrapped(m0 + math.sqrt(mu / a_tr ** 3) * (t_l - t1),
                                        abs(r1 - r_ph) / (r1 + r_ph)) - m0
    return burns, t_l, x_l, swept


def lambert_pair(x_l, t_l, aim_rv, t_arr, mu):
    """[(t_L, departure Δv), (t_arr, arrival Δv)] of the Lambert arc to the hand-over state."""
    v_dep, v_arr = lambert(x_l[:3], aim_rv[:3], t_arr - t_l, mu, np.cross(x_l[:3], x_l[3:6]))
    return [(t_l, v_dep - x_l[3:6]), (t_arr, aim_rv[3:6] - v_arr)]


def _cost(burns) -> float:
    return float(sum(np.linalg.norm(b[1]) for b in burns))


def _phasing_candidates(plan, xc, t0, aim_rv, t_arr, el, mu):
    """Every phasing radius in the bounds whose swept angle is α − θ_L + 2π m (Brent on a
    160-point bracket grid), with its Lambert pair: [(Δv, burns, figures)]."""
    period = el.period(mu)
    E = 2 * math.atan(math.sqrt((1 - el.e) / (1 + el.e)) * math.tan(el.nu / 2))
    m_now = (E - el.e * math.sin(E)) % (2 * math.pi)
    t1 = t0 + ((math.pi - m_now) % (2 * math.pi)) / (2 * math.pi) * period      # next apoapsis
    while t1 < t0 + plan.first_burn_delay_s:
        t1 += period
    x1 = kepler_state(xc, t1 - t0, mu)
    r_h, theta_l = float(np.linalg.norm(aim_rv[:3])), math.radians(plan.transfer_angle_deg)
    alpha = angle_about(x1[:3], aim_rv[:3], np.cross(x1[:3], x1[3:6]))

    def laps(r_ph):
        swept = _phasing_sequence(x1, r_ph, t1, t_arr, r_h, theta_l, plan.burn_count, mu)[3]
        return (swept - (alpha - theta_l)) / (2 * math.pi)

    alt_km = np.linspace(plan.phasing_altitude_min_km, plan.phasing_altitude_max_km, 160)
    grid = MOON_MEAN_RADIUS + 1e3 * alt_km
    vals = np.array([laps(r) for r in grid])
    out = []
    for i in range(grid.size - 1):
        lo, hi = sorted(vals[i:i + 2])
        for m in range(max(0, math.ceil(lo)), math.floor(hi) + 1):
            r_ph = brentq(lambda r, m=m: laps(r) - m, grid[i], grid[i + 1], xtol=1e-3)
            seq, t_l, x_l, _ = _phasing_sequence(x1, r_ph, t1, t_arr, r_h, theta_l, plan.burn_count, mu)
            if t_l > seq[-1][0]:
                burns = seq + lambert_pair(x_l, t_l, aim_rv, t_arr, mu)
                out.append((_cost(burns), burns, {"phasing_altitude_km": (r_ph - MOON_MEAN_RADIUS) / 1e3,
                                                  "phasing_revolutions": m}))
    return out


def two_body_design(plan: PhasingPlan, xc: np.ndarray, xt: np.ndarray, t0: float, t_arr: float,
                     mu: float) -> dict | None:
    """Cheapest two-body burn sequence for arrival at ``t_arr``, or None if none fits."""
    _, aim_rv = handover_aim(plan, kepler_state(xt, t_arr - t0, mu), mu)
    el = state_to_elements(mu, xc[:3], xc[3:6])
    candidates = _phasing_candidates(plan, xc, t0, aim_rv, t_arr, el, mu)
    if not candidates:
        return None
    cost, burns, info = min(candidates, key=lambda c: c[0])
    return {"t_arr": t_arr, "burns": burns, "two_body_delta_v_m_s": cost, **info}
