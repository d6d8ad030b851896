"""Event detection on a dense trajectory: what to detect, kept apart from what to do about it.

Each detector is a continuous switching function g(et, state) whose zeros are the events, with
the crossing direction that counts and the names of the events it raises. Detection samples g on
every integrator step (``n_sub`` sub-intervals of the DOP853 interpolant), brackets sign changes and
refines each root with Brent's method (scipy) on the interpolant, to ``time_tol_s``.

Detectors provided: altitude, periapsis/apoapsis, argument of latitude, epoch, longitude crossing
of a surface site, occultation of a body (e.g. Earth hidden by the Moon) and shadow (penumbra and
umbra entry/exit, conical model), and any user function.

Assumptions and limitations
    Two zeros of the same function inside one sub-interval (1/``n_sub`` of a step) would be missed;
    with DOP853's steps in low lunar orbit (≲ 120 s) and ``n_sub = 4`` a sub-interval is ≲ 30 s,
    shorter than any penumbra passage. Occultation is of the target body's centre by a spherical
    occulter; shadow is by a spherical occulter (the central body or another).

References
    Montenbruck & Gill, *Satellite Orbits* (2000), §3.4.2 (shadow), §4.4 (event location);
    Brent, R. P. (1973), *Algorithms for Minimization without Derivatives*, ch. 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment import frames, spice_kernels
from guanghan.environment.chebyshev import ChebyshevTable
from guanghan.environment.constants import SUN_RADIUS


@dataclass(frozen=True)
class Event:
    """An event at ``et`` (ET s) with the state there (7-vector in the trajectory's frame)."""

    et: float
    name: str
    state: np.ndarray
    detector: "Detector" = field(repr=False)


class EventEnvironment:
    """Vectorised ephemerides and rotations over a span, from Chebyshev fits (no SPICE per call)."""

    def __init__(self, center: str, et0: float, et1: float):
        self.center, self.et0, self.et1 = center, et0, et1
        self._tables: dict[tuple, ChebyshevTable] = {}

    def _table(self, key, func):
        if key not in self._tables:
            self._tables[key] = ChebyshevTable.fit(func, self.et0, self.et1)
        return self._tables[key]

    def position(self, body: str, ets: np.ndarray) -> np.ndarray:
        """J2000 position (m) of ``body`` relative to the centre, (n, 3)."""
        if body == self.center:
            return np.zeros((np.size(ets), 3))
        tab = self._table(("pos", body),
                          lambda t: spice_kernels.body_positions(body, self.center, "J2000", t))
        return tab(ets)

    def rotation(self, frame: str, ets: np.ndarray) -> np.ndarray:
        """Rotation matrices J2000 → ``frame``, (n, 3, 3)."""
        tab = self._table(("rot", frame), lambda t: frames.rotation("J2000", frame, t).reshape(-1, 9))
        return tab(ets).reshape(-1, 3, 3)


@dataclass
class Detector:
    """A switching function with its crossing names.

    ``rising``/``falling`` name the event when g crosses zero upwards/downwards (None: ignored).
    ``valid`` optionally rejects spurious zeros (e.g. of sin(Δλ) at Δλ = 180°).
    """

    g: Callable[[np.ndarray, np.ndarray, EventEnvironment], np.ndarray]
    rising: str | None = None
    falling: str | None = None
    terminal: bool = False
    valid: Callable[[np.ndarray, np.ndarray, EventEnvironment], np.ndarray] | None = None
    details: dict = field(default_factory=dict)


def altitude(altitude_m: float, radius_m: float, terminal: bool = False, name: str = "altitude") -> Detector:
    """|r| − radius − altitude (m): ``<name>_down`` when descending through it, ``<name>_up`` rising."""
    return Detector(lambda t, y, env: np.linalg.norm(y[:, :3], axis=1) - radius_m - altitude_m,
                    rising=f"{name}_up", falling=f"{name}_down", terminal=terminal,
                    details={"altitude_km": altitude_m / 1e3})


def apsides() -> Detector:
    """r·v: periapsis where it rises through zero, apoapsis where it falls."""
    return Detector(lambda t, y, env: np.einsum("ij,ij->i", y[:, :3], y[:, 3:6]) /
                    np.linalg.norm(y[:, :3], axis=1), rising="periapsis", falling="apoapsis")


def argument_of_latitude(u_deg: float, name: str = "argument_of_latitude") -> Detector:
    """Crossing of argument of latitude ``u_deg`` (osculating, J2000 axes)."""
    u0 = np.radians(u_deg)

    def arg_lat(y):
        r, v = y[:, :3], y[:, 3:6]
        h = np.cross(r, v)
        node = np.cross(np.array([0.0, 0.0, 1.0]), h)
        node /= np.linalg.norm(node, axis=1)[:, None]
        m = np.cross(h / np.linalg.norm(h, axis=1)[:, None], node)
        return np.arctan2(np.einsum("ij,ij->i", r, m), np.einsum("ij,ij->i", r, node))

    return Detector(lambda t, y, env: np.sin(arg_lat(y) - u0), rising=name,
                    valid=lambda t, y, env: np.cos(arg_lat(y) - u0) > 0, details={"u_deg": u_deg})


def epoch(et: float, name: str = "epoch", terminal: bool = False) -> Detector:
    """A given epoch (ET s)."""
    return Detector(lambda t, y, env: t - et, rising=name, terminal=terminal)


def longitude_crossing(lon_deg: float, frame: str, name: str = "site_longitude_crossing") -> Detector:
    """Sub-spacecraft point crossing east longitude ``lon_deg`` in body-fixed ``frame`` (either way)."""
    lon0 = np.radians(lon_deg)

    def dlon(t, y, env):
        r_bf = np.einsum("nij,nj->ni", env.rotation(frame, t), y[:, :3])
        return np.arctan2(r_bf[:, 1], r_bf[:, 0]) - lon0

    return Detector(lambda t, y, env: np.sin(dlon(t, y, env)), rising=name, falling=name,
                    valid=lambda t, y, env: np.cos(dlon(t, y, env)) > 0, details={"lon_deg": lon_deg})


def occultation(target: str, occulter: str, occulter_radius_m: float, name: str) -> Detector:
    """Line of sight to ``target``'s centre passing within the occulter's sphere: ``<name>_start``/``_end``."""

    def g(t, y, env):
        r = y[:, :3]
        d = env.position(target, t) - r
        o = env.position(occulter, t) - r
        p = np.clip(np.einsum("ij,ij->i", o, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
        return np.linalg.norm(o - p[:, None] * d, axis=1) - occulter_radius_m

    return Detector(g, rising=f"{name}_end", falling=f"{name}_start")


def shadow(occulter: str, occulter_radius_m: float, kind: str = "penumbra") -> Detector:
    """Entry into/exit from the occulter's penumbra or umbra (conical model, M&G §3.4.2)."""
    if kind not in ("penumbra", "umbra"):
        raise ValueError(f"shadow kind {kind!r}: use 'penumbra' or 'umbra'")

    def g(t, y, env):
        r = y[:, :3]
        s = env.position("SUN", t) - r
        o = env.position(occulter, t) - r
        ns, no = np.linalg.norm(s, axis=1), np.linalg.norm(o, axis=1)
        a = np.arcsin(np.minimum(1.0, SUN_RADIUS / ns))
        b = np.arcsin(np.minimum(1.0, occulter_radius_m / no))
        c = np.arccos(np.clip(np.einsum("ij,ij->i", s, o) / (ns * no), -1.0, 1.0))
        return c - (a + b) if kind == "penumbra" else c - (b - a)

    label = f"{occulter.lower()}_{kind}"
    return Detector(g, rising=f"{label}_exit", falling=f"{label}_entry", details={"occulter": occulter})


def user(func: Callable[[np.ndarray, np.ndarray], np.ndarray], name: str, terminal: bool = False,
         direction: int = 0) -> Detector:
    """Any continuous ``func(ets, states) -> g`` (vectorised); ``direction`` +1/-1/0 selects crossings."""
    return Detector(lambda t, y, env: np.asarray(func(t, y), dtype=float),
                    rising=name if direction >= 0 else None, falling=name if direction <= 0 else None,
                    terminal=terminal)


def find_events(traj: Trajectory, detectors: list[Detector], env: EventEnvironment | None = None,
                n_sub: int = 4, time_tol_s: float = 1e-4) -> list[Event]:
    """All events of ``detectors`` along ``traj``, sorted by epoch."""
    if not detectors or traj.n_steps == 0:
        return []
    env = env or EventEnvironment(traj.body, traj.start_et, traj.end_et)
    frac = np.arange(n_sub) / n_sub
    steps = traj.step_ets
    grid = np.append((steps[:-1, None] + np.diff(steps)[:, None] * frac[None, :]).ravel(), steps[-1])
    states = traj.states(grid)
    found: list[Event] = []
    for det in detectors:
        gv = det.g(grid, states, env)
        sign = np.sign(gv)
        idx = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
        for i in idx:
            rising = gv[i + 1] > gv[i]
            name = det.rising if rising else det.falling
            if name is None:
                continue

            def scalar(t, det=det):
                return float(det.g(np.array([t]), traj.states([t]), env)[0])

            t_root = brentq(scalar, grid[i], grid[i + 1], xtol=time_tol_s, rtol=1e-15)
            if t_root <= grid[0] + time_tol_s:
                continue          # a zero at the very start is where we are, not a crossing
            y_root = traj.states([t_root])
            if det.valid is not None and not bool(det.valid(np.array([t_root]), y_root, env)[0]):
                continue
            found.append(Event(float(t_root), name, y_root[0], det))
    found.sort(key=lambda e: e.et)
    return found
