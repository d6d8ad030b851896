"""Preliminary design of a Moon-to-Earth return by BACKWARD propagation from the entry interface.

:func:`departure` solves the EI unknowns (approach bearing at the site, inertial EI speed, downrange)
so that the trajectory integrated backwards from the EI passes a periapsis of given altitude at a
given epoch near the Moon, with the departure plane turned to a given B-plane angle about the
outgoing asymptote. It gives the departure hyperbola from which parking orbits are built
(:mod:`guanghan.gnc.parking_orbit_design`) and TEI-2's aim and first guess.

Assumptions and limitations
    * Integrated with scipy DOP853 at rtol 1e-10 on the compiled right-hand side, Earth-centred over
      the whole arc (the Moon as a third body): a starting point, refined by the targeting on the
      patched model.
    * The EI state has the target's relative flight-path angle, heading straight for the site
      (zero crossrange), at the target's epoch.

References
    Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), §6.4 (B-plane targeting,
    |B| = r_p sqrt(1 + 2μ/(r_p v∞²))); Bate, Mueller & White (1971), §7.4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from guanghan.dynamics.conics import asymptote, b_plane, hyperbola_periapsis
from guanghan.dynamics.patched_flight import PatchedModels, integrator
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels
from guanghan.environment.constants import EARTH_MEAN_RADIUS as R_SPHERE
from guanghan.environment.constants import EARTH_ROTATION_RATE
from guanghan.environment.geodetic import cartesian_from_planetodetic, destination
from guanghan.errors import GuidanceFailure
from guanghan.gnc.entry_target import EntryTarget, site_unit_itrf


def ei_state_itrf(target: EntryTarget, downrange_km: float, bearing_deg: float, speed_m_s: float):
    """ITRF93 state at the EI point ``downrange_km`` from the site on the great circle leaving the
    site at ``bearing_deg`` (deg from north), heading to the site with the target FPA (relative)
    and INERTIAL speed ``speed_m_s``."""
    lat, lon = destination(math.radians(target.site_lat_deg), math.radians(target.site_lon_deg),
                           math.radians(bearing_deg), downrange_km * 1e3 / R_SPHERE)
    r = cartesian_from_planetodetic(lat, lon, target.altitude_m)
    up = r / np.linalg.norm(r)
    site = site_unit_itrf(target.site_lat_deg, target.site_lon_deg)
    along = site - (site @ up) * up
    along /= np.linalg.norm(along)
    g = math.radians(target.fpa_deg)
    u = math.cos(g) * along + math.sin(g) * up
    w = np.cross([0.0, 0.0, EARTH_ROTATION_RATE], r)            # ω × r (m/s)
    s = -(u @ w) + math.sqrt((u @ w) ** 2 - w @ w + speed_m_s ** 2)   # |s u + w| = speed
    return np.concatenate([r, s * u])


@dataclass(frozen=True)
class Departure:
    """A designed return: Moon-centred J2000 periapsis state at ``et`` (m, m/s), the EI unknowns
    ``x`` (approach bearing deg, inertial EI speed m/s, downrange km), the B-plane angle (deg,
    atan2(B·R, B·T), J2000-based T) of the departure hyperbola and the EI position (J2000, m)."""

    et: float
    r_moon_j2000: np.ndarray
    v_moon_j2000: np.ndarray
    x: np.ndarray
    b_plane_angle_deg: float
    r_ei_j2000: np.ndarray
    asymptote_j2000: np.ndarray     # unit outgoing asymptote S of the osculating hyperbola 12 h out


def design_departure(target: EntryTarget, periapsis_et: float, periapsis_altitude_m: float,
                     models: PatchedModels, downrange_km: float, speed_guess_m_s: float = 10_990.0,
                     *, b_plane_angle_deg: float | None = None, x_guess=None, rtol: float = 1e-10):
    """Moon-centred periapsis state (r, v at ``periapsis_et``) of a trajectory reaching the EI.

    Returns (r_moon_j2000, v_moon_j2000, x); :func:`departure` gives the full :class:`Departure`.
    """
    d = departure(target, periapsis_et, periapsis_altitude_m, models, downrange_km, speed_guess_m_s,
                  b_plane_angle_deg=b_plane_angle_deg, x_guess=x_guess, rtol=rtol)
    return d.r_moon_j2000, d.v_moon_j2000, d.x


def departure(target: EntryTarget, periapsis_et: float, periapsis_altitude_m: float,
              models: PatchedModels, downrange_km: float, speed_guess_m_s: float = 10_990.0,
              *, b_plane_angle_deg: float | None = None, x_guess=None, rtol: float = 1e-10) -> Departure:
    """Design the departure hyperbola by BACKWARD propagation from the EI (preliminary design).

    Unknowns: approach bearing at the site (deg), inertial EI speed (m/s) and downrange (km), the
    EI having the target's relative FPA, epoch and zero crossrange. Stage 1 (from ``x_guess``, or
    the best of a bearing/speed grid) targets the osculating lunar hyperbola 12 h after periapsis:
    a B-plane vector of the length giving the periapsis radius (Vallado §6.4: |B| = r_p
    sqrt(1 + 2μ/(r_p v∞²))), at ``b_plane_angle_deg`` (the rotation of the departure plane about
    the outgoing asymptote; None keeps the side where the first guess passes) (1 km), and the
    periapsis epoch (1 min); stage 2 the Moon-centred altitude (1 km) and radial speed (1 m/s) at
    ``periapsis_et`` and the B-plane angle 12 h out (0.01°). The downrange is an output.
    """
    mu_moon = models.moon.central.mu
    rp_target = float(spice_kernels.radii("MOON").mean()) + periapsis_altitude_m
    t_out = periapsis_et + 12 * 3600.0
    run = integrator(models.earth, periapsis_et, target.et, rtol)

    def ei_j2000(x):
        x_itrf = ei_state_itrf(target, x[2], x[0], x[1])
        return frames.transform_states(x_itrf, "ITRF93", "J2000", [target.et])[0]

    def moon_state(x, et):
        y = run(target.et, np.append(ei_j2000(x), 1000.0), et)
        return SpacecraftState.from_vector(et, y, body="EARTH").recentered("MOON")

    if x_guess is None:
        grid = [(b, speed_guess_m_s + dv, downrange_km) for b in range(0, 360, 10)
                for dv in (-20.0, 0.0, 20.0)]
        best = np.array(min(grid, key=lambda x: np.linalg.norm(moon_state(x, periapsis_et).r)))
    else:
        best = np.asarray(x_guess, float)
    s_out = moon_state(best, t_out)
    vinf2 = s_out.v @ s_out.v - 2 * mu_moon / np.linalg.norm(s_out.r)
    b0 = b_plane(s_out, mu_moon)
    ang = math.atan2(b0[1], b0[0]) if b_plane_angle_deg is None else math.radians(b_plane_angle_deg)
    b_aim = np.array([math.cos(ang), math.sin(ang)]) * rp_target * math.sqrt(
        1.0 + 2.0 * mu_moon / (rp_target * vinf2))

    def fun_conic(x):
        s = moon_state(x, t_out)
        return np.append((b_plane(s, mu_moon) - b_aim) / 1e3,
                         (hyperbola_periapsis(s, mu_moon)[1] - periapsis_et) / 60.0)

    def fun(x):
        s = moon_state(x, periapsis_et)
        rn = np.linalg.norm(s.r)
        b = b_plane(moon_state(x, t_out), mu_moon)
        turn = math.remainder(math.atan2(b[1], b[0]) - ang, 2 * math.pi)
        return np.array([(rn - rp_target) / 1e3, s.r @ s.v / rn, math.degrees(turn) / 0.01])

    x1 = least_squares(fun_conic, best, x_scale="jac", diff_step=1e-8, max_nfev=100).x
    sol = least_squares(fun, x1, x_scale="jac", diff_step=1e-8, max_nfev=100)
    if np.max(np.abs(sol.fun[:2])) > 1e-2:
        raise GuidanceFailure("trans_earth_design", f"no return trajectory from a {periapsis_altitude_m / 1e3:.0f}"
                              f" km periapsis at ET {periapsis_et:.0f} reaches the EI (misses {sol.fun})")
    s, s_out = moon_state(sol.x, periapsis_et), moon_state(sol.x, t_out)
    b1, vinf = b_plane(s_out, mu_moon), asymptote(s_out, mu_moon)
    return Departure(periapsis_et, s.r, s.v, sol.x, math.degrees(math.atan2(b1[1], b1[0])),
                     ei_j2000(sol.x)[:3], vinf / np.linalg.norm(vinf))
