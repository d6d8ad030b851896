"""Launch windows of a lunar ascent: lift-off epochs when the site crosses the orbiter's plane.

An ascent inserts into (or near) the plane of the orbiter it will meet. The Moon turns under that
plane once per sidereal rotation (27.32 d), so a site whose latitude is below the orbit's
inclination crosses the plane twice per rotation, one half sidereal day apart for a polar orbit
over the equator; a site above it only comes closest once per rotation. The windows are the zero
crossings of the site's signed distance from the plane,

    f(t) = ĥ(t) · r̂_site(t)            (sine of the site's out-of-plane angle),

with ĥ the orbiter's unit angular momentum and r_site the site in Moon-centred J2000 (MOON_ME →
J2000 through SPICE), found by sampling and refined with Brent's method (scipy ``brentq``); where
f keeps its sign, the minima of |f| (bounded Brent search) are the closest approaches.

At each window: the phase angle (orbiter ahead of the site, measured in the orbit plane along the
motion, −180°…180°), the site's out-of-plane angle and its rate, and a plane-change Δv estimate

    Δv ≈ 2 v_ins sin(|δ|/2) + |v_site · ĥ|

— rotating the insertion velocity through the out-of-plane angle δ (Curtis ch. 6, plane-change
manoeuvre) plus nulling the site's own out-of-plane velocity from the lunar rotation. It is an
upper bound for an ascent that yaw-steers the change during the burn (where the turn is made at
low speed).

Assumptions and limitations
    * The orbiter's osculating plane from its (r, v); samples given as arrays are interpolated
      by cubic Hermite splines (positions with their velocities, velocities with point-mass
      accelerations). Its short-period wobble in a real field moves the crossings by minutes.
    * Closest approaches without a crossing are the minima of |f| that are lowest within
      ``min_separation_s`` (default 5 d) either side, so the per-orbit wobble is not reported.
    * Geometry only: lighting, Earth visibility and the rendezvous phasing budget are not judged.

References
    Brent, R. P. (1973), *Algorithms for Minimization without Derivatives*, ch. 4 (root) and
    ch. 5 (minimum): via ``scipy.optimize.brentq`` and ``minimize_scalar(method="bounded")``.
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (3rd ed.), ch. 6 (plane-change
    manoeuvres, Δv = 2 v sin(δ/2)).
    Bennett, F. V. (1972), NASA TN D-6846 (Apollo LM lift-off timed to the CSM's passage over the
    site; plane and phase constraints of the ascent).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicHermiteSpline
from scipy.optimize import brentq, minimize_scalar

from guanghan.environment import frames, spice_kernels, time_scales
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.errors import InputError

__all__ = ["LaunchWindow", "launch_windows", "sampled_trajectory"]


@dataclass(frozen=True)
class LaunchWindow:
    """One lift-off opportunity (angles in deg, speeds in m/s, epoch in s TDB past J2000)."""

    et: float
    utc: str
    crossing: bool                      # True: the site crosses the plane; False: closest only
    out_of_plane_deg: float             # signed, + on the side of the angular momentum
    out_of_plane_rate_deg_min: float
    phase_angle_deg: float              # orbiter ahead of the site along the motion
    plane_change_dv_m_s: float
    site_normal_speed_m_s: float        # the site's inertial velocity along ĥ
    orbiter_speed_m_s: float


def sampled_trajectory(ets, states) -> Callable:
    """A callable et → (r, v) from samples ``ets`` (s, increasing) and ``states`` (n, 6) (m, m/s,
    Moon-centred J2000): cubic Hermite in r (with v) and in v (with point-mass gravity)."""
    ets = np.asarray(ets, float)
    x = np.asarray(states, float)
    if x.ndim != 2 or x.shape != (ets.size, 6) or ets.size < 2 or np.any(np.diff(ets) <= 0):
        raise InputError("need (n, 6) states at n ≥ 2 increasing epochs", quantity="orbiter",
                         value=x.shape)
    mu = spice_kernels.gm("MOON")
    acc = -mu * x[:, :3] / np.linalg.norm(x[:, :3], axis=1)[:, None] ** 3
    r_spl = CubicHermiteSpline(ets, x[:, :3], x[:, 3:], axis=0)
    v_spl = CubicHermiteSpline(ets, x[:, 3:], acc, axis=0)

    def trajectory(et):
        if not ets[0] <= et <= ets[-1]:
            raise InputError(f"outside the orbiter samples {ets[0]:.1f}–{ets[-1]:.1f} s",
                             quantity="et", value=et, limit=(ets[0], ets[-1]))
        return r_spl(et), v_spl(et)

    return trajectory


class _Geometry:
    """Site and orbiter geometry at an epoch (J2000, m, m/s)."""

    def __init__(self, lat_deg: float, lon_deg: float, radius_m: float, orbiter: Callable):
        la, lo = math.radians(lat_deg), math.radians(lon_deg)
        self.site_me = radius_m * np.array([math.cos(la) * math.cos(lo),
                                            math.cos(la) * math.sin(lo), math.sin(la)])
        self.orbiter = orbiter

    def site(self, ets) -> np.ndarray:
        """Site states (n, 6) in J2000: MOON_ME → J2000 state transform (velocity ω × r)."""
        ets = np.atleast_1d(np.asarray(ets, float))
        x = np.tile(np.concatenate([self.site_me, np.zeros(3)]), (ets.size, 1))
        return frames.transform_states(x, "MOON_ME", "J2000", ets)

    def normal(self, et: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, v = self.orbiter(float(et))
        r, v = np.asarray(r, float).reshape(3), np.asarray(v, float).reshape(3)
        h = np.cross(r, v)
        return h / np.linalg.norm(h), r, v

    def f(self, et: float) -> float:
        """sin of the site's out-of-plane angle at ``et``."""
        s = self.site(et)[0, :3]
        return float(self.normal(et)[0] @ s) / float(np.linalg.norm(s))


def launch_windows(latitude_deg: float, longitude_deg: float, start_et: float, stop_et: float,
                   orbiter, *, height_m: float = 0.0, step_s: float = 600.0,
                   insertion_speed_m_s: float | None = None,
                   min_separation_s: float = 5 * 86400.0) -> list[LaunchWindow]:
    """Lift-off windows at the site (planetocentric MOON_ME lat/lon, deg; ``height_m`` above the
    1737.4 km sphere) between ``start_et`` and ``stop_et`` (s TDB past J2000), sorted by epoch.

    ``orbiter``: callable et → (r (m), v (m/s)) Moon-centred J2000, or a pair (ets, states (n, 6))
    of samples. ``step_s``: sampling step of the search (s). ``insertion_speed_m_s``: speed for
    the Δv estimate (default: the orbiter's speed at the window)."""
    if not -90.0 <= latitude_deg <= 90.0:
        raise InputError("must lie in [-90, 90] deg", quantity="latitude_deg",
                         value=latitude_deg, limit=(-90.0, 90.0))
    if not stop_et > start_et:
        raise InputError("must be after start_et", quantity="stop_et", value=stop_et,
                         limit=start_et)
    if not 1.0 <= step_s <= 86400.0:
        raise InputError("sampling step must lie in [1 s, 1 d]", quantity="step_s",
                         value=step_s, limit=(1.0, 86400.0))
    if not callable(orbiter):
        orbiter = sampled_trajectory(*orbiter)
    geo = _Geometry(latitude_deg, longitude_deg, MOON_MEAN_RADIUS + height_m, orbiter)
    n = max(2, math.ceil((stop_et - start_et) / step_s) + 1)
    ets = np.linspace(start_et, stop_et, n)
    sites = geo.site(ets)[:, :3]
    normals = np.array([geo.normal(t)[0] for t in ets])
    f = np.sum(normals * sites, axis=1) / np.linalg.norm(sites, axis=1)
    found = [(brentq(geo.f, ets[i], ets[i + 1], xtol=1e-3), True)
             for i in range(n - 1) if f[i] == 0.0 or f[i] * f[i + 1] < 0.0]
    found += [(t, False) for t in _closest_approaches(geo, ets, f, min_separation_s)]
    return sorted((_window(geo, t, c, insertion_speed_m_s, start_et, stop_et) for t, c in found),
                  key=lambda w: w.et)


def _closest_approaches(geo: _Geometry, ets, f, min_separation_s: float) -> list[float]:
    """Epochs of the minima of |f| with no sign change nearby (module docstring)."""
    a = np.abs(f)
    out = []
    for i in range(1, len(ets) - 1):
        near = np.abs(ets - ets[i]) <= min_separation_s
        if a[i] > a[near].min() or np.any(np.sign(f[near]) != np.sign(f[i])):
            continue
        res = minimize_scalar(lambda t: abs(geo.f(t)), bounds=(ets[i - 1], ets[i + 1]),
                              method="bounded", options={"xatol": 1e-2})
        out.append(float(res.x))
    return out


def _window(geo: _Geometry, et: float, crossing: bool, v_ins: float | None, start: float,
            stop: float) -> LaunchWindow:
    h, r_o, v_o = geo.normal(et)
    s = geo.site(et)[0]
    r_s, v_s = s[:3], s[3:]
    sin_d = float(h @ r_s) / float(np.linalg.norm(r_s))
    delta = math.asin(max(-1.0, min(1.0, sin_d)))
    lo, hi = max(start, et - 30.0), min(stop, et + 30.0)       # rate by a difference
    rate = (math.asin(max(-1.0, min(1.0, geo.f(hi)))) -
            math.asin(max(-1.0, min(1.0, geo.f(lo))))) / (hi - lo)
    s_p = r_s - (r_s @ h) * h
    phase = math.atan2(float(h @ np.cross(s_p, r_o)), float(s_p @ r_o))
    speed = float(np.linalg.norm(v_o)) if v_ins is None else float(v_ins)
    v_n = float(v_s @ h)
    dv = 2.0 * speed * math.sin(abs(delta) / 2.0) + abs(v_n)   # Curtis ch. 6 + site velocity
    return LaunchWindow(float(et), time_scales.et_to_utc(float(et)), crossing,
                        math.degrees(delta),
                        math.degrees(rate) * 60.0, math.degrees(phase), dv, v_n,
                        float(np.linalg.norm(v_o)))
