"""Short thruster firings of a small vehicle and its two-body truth step under them.

A :class:`Firing` is one axis pulse of a reaction-control thruster: a constant force (N) held in
the target's Hill frame, so turning with it at the orbit rate (Rodrigues' rotation about the
orbit normal), with its mass flow; it also carries the commanded Δv (m/s) and its variance,
which is what the navigation filter is told (:mod:`guanghan.gnc.proximity_operations` makes
the firings from commands and flies them). :func:`chaser_step` moves the vehicle's [r, v, m]
over a step: Kepler (universal variables) while coasting, classical RK4 steps of at most 1 s
while any firing is on, the step cut at every firing's start and end.

Assumptions and limitations
    * Two-body central gravity only (the close-range truth of the rendezvous).
    * RK4 at ≤ 1 s: for pulses of ~1–100 s at ~0.01–0.1 m/s² the error is far below a millimetre.

References
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), §3.7 (universal
    variables), §1.8 (RK4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from guanghan.dynamics.kepler import kepler_universal


@dataclass
class Firing:
    """One axis firing: [t0, t1] (s), inertial force at t0 (N, with errors) turning with the
    Hill frame (about ``normal`` at ``rate`` rad/s), mass flow (kg/s), the commanded Δv (m/s,
    Hill axes) the filter is told, and its variance (m²/s², per axis)."""

    t0: float
    t1: float
    force: np.ndarray
    mdot: float
    dv_cmd: np.ndarray
    dv_var: np.ndarray
    normal: np.ndarray
    rate: float

    def force_at(self, t: float) -> np.ndarray:
        """The force (N, inertial) at ``t``: attitude held in the Hill frame (Rodrigues)."""
        a = self.rate * (t - self.t0)
        w, f = self.normal, self.force
        return f * math.cos(a) + np.cross(w, f) * math.sin(a) + w * (w @ f) * (1.0 - math.cos(a))


def _rk4(y: np.ndarray, h: float, force: np.ndarray, mdot: float, mu: float) -> np.ndarray:
    """One classical RK4 step (``h`` s) of [r, v, m] under two-body gravity (``mu``, m³/s²), a
    constant ``force`` (N, inertial) and mass flow ``mdot`` (kg/s); hand-written because the
    steps are fixed (≤ 1 s inside a pulse) and scipy's ``solve_ivp`` per step costs ~100× more."""
    def f(s):
        r = s[:3]
        return np.concatenate([s[3:6], -mu * r / np.linalg.norm(r) ** 3 + force / s[6], [-mdot]])
    k1 = f(y)
    k2 = f(y + 0.5 * h * k1)
    k3 = f(y + 0.5 * h * k2)
    k4 = f(y + h * k3)
    return y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def chaser_step(y: np.ndarray, t: float, dt: float, firings: list[Firing], mu: float) -> np.ndarray:
    """Chaser [r, v, m] after ``dt`` s: Kepler while coasting, RK4 (≤ 1 s) while firing."""
    cuts = sorted({t, t + dt} | {c for f in firings for c in (f.t0, f.t1) if t < c < t + dt})
    for a, b in pairwise(cuts):
        mid = 0.5 * (a + b)
        active = [f for f in firings if f.t0 <= mid < f.t1]
        if not active:
            r, v = kepler_universal(y[:3], y[3:6], b - a, mu)
            y = np.concatenate([r, v, y[6:]])
            continue
        mdot = sum(f.mdot for f in active)
        steps = max(1, math.ceil(b - a))
        h = (b - a) / steps
        for k in range(steps):
            y = _rk4(y, h, sum(f.force_at(a + (k + 0.5) * h) for f in active), mdot, mu)
    return y
