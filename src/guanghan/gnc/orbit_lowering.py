"""Orbit lowering before a powered descent: two retrograde finite burns that put periapsis at the
descent-start height, at the descent-start epoch, a given arc up-range of the landing site.

Design on Kepler orbits (Curtis 2020, §6.2–6.3: apse-line geometry, vis-viva), then solved on the
full force model:

1. The unburnt orbit is propagated to the descent-start epoch ``et_pdi``; its plane there and the
   site (MOON_ME → J2000 at ``et_pdi``) give the in-plane angle φ measured from the site's
   projection, along the motion. The descent start is at φ_pdi = −uprange / R_site, its
   antipode (the burn point) at φ_pdi + π.
2. Both burns are at the antipode, i.e. at the apoapsis of the orbits they leave behind: burn 1 at a
   pass ``t_a`` lowers the periapsis to an intermediate height; after ``n`` revolutions of period
   P_mid burn 2 lowers it to the descent-start height, and half a revolution of the final ellipse
   later (P_f / 2) the lander is at periapsis: t_a + n P_mid + P_f / 2 = et_pdi. P_mid must lie
   between P_f and the unburnt period P1 (with margins, so that burn 2 stays large enough to
   steer the apse line), which fixes a
   family of (t_a, n); the one with the latest burn 1 is taken (shortest propagation). The
   phasing needs up to P1 P_f / (0.8 (P1 − P_f)) of flight (≈ 35 h from 200 km to 15 km, ≈ 61 h
   from 110 km), so the separation must come early enough. Periods are the Kepler values scaled by the ratio of the
   observed (pass-to-pass) period of the unburnt orbit to its Kepler period.
3. Solved on the full force model, nested: for a burn-1 duration the flight is propagated to
   shortly before burn 2, and burn 2's duration and pitch (from −v toward the radial; a fixed
   inertial direction, the burn lasting seconds) are solved by Newton's method (finite
   differences, bounded steps, backtracking) for the height over the site's sphere and zero
   radial velocity (periapsis) at ``et_pdi``; burn 1's duration is then solved by the secant
   method for the in-plane angle φ_pdi (the up-range point). The pitch lets burn 2 place the
   apse line although the lumpy field has moved the intermediate orbit's apsides over its
   revolutions; the phase is very sensitive to burn 1 (a 1 m/s change moves the descent start
   by ~100 km after a few revolutions), which a joint solve handled badly.

Assumptions and limitations
    * Burn 1 is retrograde (along −v), burn 2 pitched in the orbit plane; constant thrust; no
      plane change: the cross-track offset of
      the site from the orbit plane at ``et_pdi`` is reported, not removed (the powered descent
      flies it out).
    * Height is over a sphere through the site (radius given), not over the terrain under the
      periapsis: the caller checks the clearance.

References
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), §6.2 (Hohmann
    transfer, apse-line burns), §6.3 (phasing manoeuvres), eq. 2.71 (vis-viva).
    Nocedal, J., Wright, S. J., *Numerical Optimization* (2nd ed., 2006), §11.1 (Newton's method
    for nonlinear equations), §3.1 (backtracking), §4.1 (bounding the step: a trust region).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from guanghan.dynamics.forces import FiniteBurn, ForceModel
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import Engine, burn_duration, propellant_for_delta_v
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames
from guanghan.errors import GuidanceFailure, InputError, PropagationError

#: fractions of (P1 − P_f) kept clear at the low and high ends of the intermediate period: burn 2
#: must stay large enough to steer the apse line (the periapsis epoch), burn 1 may be small
_PERIOD_MARGIN_LOW, _PERIOD_MARGIN_HIGH = 0.15, 0.05
#: solved when |height| < 20 m, |radial velocity| < 0.3 m/s, |up-range miss| < 0.2 km (the rows of
#: the miss vector are per 100 m, per m/s and per km)
_TOLERANCE = np.array([0.2, 0.3, 0.2])
#: burn 2 is designed from the state this long (s) before its nominal start
_BURN2_LEAD_S = 120.0
#: first secant step (s) of burn 1's duration, and the largest step (s)
_SECANT_START_S, _MAX_STEP_D1_S = 0.01, 2.0
#: finite-difference steps of burn 2's duration (s) and pitch (rad); largest Newton steps
_FD_STEP2 = np.array([0.02, 1e-3])
_MAX_STEP2 = np.array([2.0, 0.3])


@dataclass(frozen=True)
class LoweringTarget:
    """Where and when the powered descent starts: epoch (ET s), the site (MOON_ME, m, on its
    reference sphere), the periapsis height over that sphere (m) and the up-range arc (m)."""

    et_pdi: float
    site_me_m: np.ndarray
    periapsis_height_m: float
    uprange_m: float


@dataclass
class LoweringResult:
    """The solved burns, the flown trajectory (start → ``et_pdi``) and the misses at ``et_pdi``."""

    burns: list[FiniteBurn]
    trajectory: object
    state_pdi: SpacecraftState
    figures: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LoweringDesign:
    """A solved lowering kept to fly again (``--design-from``): the separation state it was
    solved from, its burns and its figures."""

    start: SpacecraftState
    burns: list[FiniteBurn]
    figures: dict


def stored_lowering(start: SpacecraftState, model: ForceModel, design: LoweringDesign, et_pdi: float,
                    tolerances: Tolerances) -> LoweringResult | None:
    """The stored burns flown from ``start`` to ``et_pdi`` with the stored figures, if ``start`` is
    the state they were solved from (:meth:`SpacecraftState.close_to`: 1 m, 1 mm/s, 10 g); else
    None (solve again with :func:`design_lowering`)."""
    if not start.close_to(design.start):
        return None
    res = propagate(start, et_pdi, replace(model, burns=list(design.burns)), tolerances)
    return LoweringResult(list(design.burns), res.trajectory,
                          SpacecraftState.from_vector(et_pdi, res.trajectory.final_state), dict(design.figures))


def _plane_basis(state_j2000: np.ndarray, site_j2000: np.ndarray):
    """(e1, e2, h): e1 the site's projection on the orbit plane, e2 = h × e1 (along the motion)."""
    h = np.cross(state_j2000[:3], state_j2000[3:6])
    h /= np.linalg.norm(h)
    s = site_j2000 - (site_j2000 @ h) * h
    e1 = s / np.linalg.norm(s)
    return e1, np.cross(h, e1), h


def _angle(r, e1, e2) -> np.ndarray:
    return np.arctan2(r @ e2, r @ e1)


def _wrap(a):
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def design_lowering(start: SpacecraftState, model: ForceModel, engine: Engine,
                    target: LoweringTarget, tolerances: Tolerances, min_delay_s: float = 3600.0,
                    max_iterations: int = 12) -> LoweringResult:
    """Design and solve the two lowering burns from ``start`` (J2000, Moon-centred)."""
    et_pdi = target.et_pdi
    if et_pdi - start.et < min_delay_s + 3600.0:
        raise InputError(f"the descent starts {(et_pdi - start.et) / 3600:.2f} h after the "
                         f"separation; the lowering needs at least {min_delay_s / 3600 + 1:.1f} h",
                         quantity="powered_descent_utc", value=et_pdi)
    coast = propagate(start, et_pdi, model, tolerances).trajectory
    x_pdi = coast.states([et_pdi])[0]
    site_j = frames.rotation("MOON_ME", "J2000", [et_pdi])[0] @ np.asarray(target.site_me_m, float)
    r_site = float(np.linalg.norm(site_j))
    e1, e2, h = _plane_basis(x_pdi, site_j)
    cross_track_m = r_site * math.asin(float(site_j @ h) / r_site)
    phi_pdi = -target.uprange_m / r_site
    ets = np.arange(start.et + min_delay_s, et_pdi, 20.0)
    xs = coast.states(ets)
    d = _wrap(_angle(xs[:, :3], e1, e2) - (phi_pdi + np.pi))
    idx = np.nonzero((d[:-1] < 0) & (d[1:] >= 0) & (d[1:] - d[:-1] < np.pi))[0]
    if idx.size < 2:
        raise InputError("fewer than two orbits between separation and descent start",
                         quantity="powered_descent_utc", value=et_pdi)
    t_pass = ets[idx] - d[idx] * (ets[idx + 1] - ets[idx]) / (d[idx + 1] - d[idx])
    mu = model.central.mu
    r_a = float(np.mean(np.linalg.norm(xs[:, :3], axis=1)))
    p1 = float(np.mean(np.diff(t_pass)))
    k = p1 / (2 * math.pi * math.sqrt(r_a ** 3 / mu))          # field correction of the period
    r_p = r_site + target.periapsis_height_m
    if r_p >= r_a:
        raise InputError(f"the orbit's mean radius {r_a / 1e3:.1f} km is not above the descent "
                         f"start ({r_p / 1e3:.1f} km)", quantity="periapsis_altitude_km",
                         value=target.periapsis_height_m / 1e3)
    period = lambda a: 2 * math.pi * k * math.sqrt(a ** 3 / mu)
    a_f = 0.5 * (r_a + r_p)
    p_f = period(a_f)
    lo, hi = p_f + _PERIOD_MARGIN_LOW * (p1 - p_f), p1 - _PERIOD_MARGIN_HIGH * (p1 - p_f)
    choice = None
    for t_a in t_pass[::-1]:
        for n in range(1, 60):
            p_mid = (et_pdi - 0.5 * p_f - t_a) / n
            if p_mid < lo:
                break
            if p_mid <= hi:
                choice = (float(t_a), n, p_mid)
                break
        if choice:
            break
    if choice is None:
        need_h = p1 * p_f / ((1 - _PERIOD_MARGIN_LOW - _PERIOD_MARGIN_HIGH) * (p1 - p_f)) / 3600
        raise InputError(f"no phasing between separation and descent start: it needs up to "
                         f"{need_h:.1f} h of flight after the first {min_delay_s / 3600:.1f} h "
                         f"(the lowered orbit to periapsis_altitude_km = "
                         f"{target.periapsis_height_m / 1e3:g} has a period only "
                         f"{p1 - p_f:.1f} s shorter than the {p1 / 60:.1f} min orbit's)",
                         quantity="powered_descent_utc", value=et_pdi)
    t_a, n_rev, p_mid = choice
    a_mid = (p_mid / (2 * math.pi * k)) ** (2.0 / 3.0) * mu ** (1.0 / 3.0)
    vis = lambda a: math.sqrt(mu * (2.0 / r_a - 1.0 / a))
    dv1, dv2 = vis(r_a) - vis(a_mid), vis(a_mid) - vis(a_f)
    thrust, isp = engine.total_thrust_n, engine.isp_s
    d1 = burn_duration(start.mass, dv1, thrust, isp)
    d2 = burn_duration(start.mass - propellant_for_delta_v(start.mass, dv1, isp), dv2, thrust, isp)
    t1c, t2c = t_a, t_a + n_rev * p_mid
    t0 = max(start.et, t1c - d1 - 900.0)
    s0 = SpacecraftState.from_vector(t0, coast.states([t0])[0]) if t0 > start.et else start
    t2_ref = t2c - 0.5 * d2 - _BURN2_LEAD_S          # burn 2 is designed from the state here
    counts = {"long": 0, "short": 0}

    def burn1(d):
        return FiniteBurn(t1c - 0.5 * d, max(d, 0.1), thrust, isp, "retrograde")

    def burn2(ref: np.ndarray, x) -> FiniteBurn:
        """Burn 2 of duration d2 + x[0], pitched x[1] rad from −v toward the radial (fixed
        inertial direction taken from the state ``ref`` shortly before it)."""
        r, v = ref[:3], ref[3:6]
        vh = v / np.linalg.norm(v)
        rh = r - (r @ vh) * vh
        rh /= np.linalg.norm(rh)
        u = math.cos(x[1]) * -vh + math.sin(x[1]) * rh
        return FiniteBurn(t2c - 0.5 * (d2 + x[0]), max(d2 + x[0], 0.1), thrust, isp, "inertial",
                          tuple(u))

    def final_misses(state_ref: SpacecraftState, x) -> np.ndarray:
        counts["short"] += 1
        try:
            y = propagate(state_ref, et_pdi, replace(model, burns=[burn2(state_ref.vector, x)]),
                          tolerances).trajectory.final_state
        except PropagationError:                        # a trial that hits the Moon
            return np.full(3, 1e6)
        r = y[:3]
        rn = float(np.linalg.norm(r))
        phi = float(_wrap(_angle(r, e1, e2) - phi_pdi))
        return np.array([(rn - r_p) / 100.0, float(r @ y[3:6]) / rn, phi * r_site / 1e3])

    def solve_burn2(d):
        """(state before burn 2, burn-2 unknowns, misses) for a burn 1 of ``d`` s: Newton on the
        height and radial velocity at the descent start."""
        counts["long"] += 1
        y = propagate(s0, t2_ref, replace(model, burns=[burn1(d)]), tolerances).trajectory
        ref = SpacecraftState.from_vector(t2_ref, y.final_state)
        x = np.zeros(2)
        m = final_misses(ref, x)
        for _ in range(max_iterations):
            if np.all(np.abs(m[:2]) < _TOLERANCE[:2]):
                break
            jac = np.empty((2, 2))
            for j, h in enumerate(_FD_STEP2):
                dx = np.zeros(2)
                dx[j] = h
                jac[:, j] = (final_misses(ref, x + dx)[:2] - m[:2]) / h
            try:
                step = np.linalg.solve(jac, -m[:2])
            except np.linalg.LinAlgError:
                break
            step *= min(1.0, float(np.min(_MAX_STEP2 / np.maximum(np.abs(step), 1e-12))))
            for _ in range(6):                          # backtracking
                trial = final_misses(ref, x + step)
                if np.linalg.norm(trial[:2]) < np.linalg.norm(m[:2]):
                    x, m = x + step, trial
                    break
                step = 0.5 * step
            else:
                break
        return ref, x, m

    # secant on burn 1's duration for the up-range point (Nocedal & Wright §11.1)
    ref, x2, m = solve_burn2(d1)
    d_cur, f_cur, d_prev, f_prev = d1, m[2], None, None
    for _ in range(max_iterations):
        if np.all(np.abs(m) < _TOLERANCE):
            break
        if d_prev is None:
            d_next = d_cur + _SECANT_START_S
        elif f_cur == f_prev:
            break
        else:
            d_next = d_cur - f_cur * (d_cur - d_prev) / (f_cur - f_prev)
        d_next = min(max(d_next, d_cur - _MAX_STEP_D1_S), d_cur + _MAX_STEP_D1_S)
        ref, x2, m = solve_burn2(d_next)
        d_prev, f_prev, d_cur, f_cur = d_cur, f_cur, d_next, m[2]
    burns = [burn1(d_cur), burn2(ref.vector, x2)]
    res = propagate(start, et_pdi, replace(model, burns=burns), tolerances)
    if not np.all(np.abs(m) < 10 * _TOLERANCE):
        raise GuidanceFailure("orbit_lowering", (
            f"no lowering solution: at the descent start the height misses by {m[0] * 100:.0f} m, "
            f"the radial velocity is {m[1]:.1f} m/s, the up-range point misses by {m[2]:.1f} km"))
    evals = counts["long"] + counts["short"]
    y = res.trajectory.final_state
    figures = {"height_error_m": float(m[0] * 100.0), "radial_velocity_m_s": float(m[1]),
               "uprange_error_m": float(m[2] * 1e3), "cross_track_m": float(cross_track_m),
               "revolutions_between_burns": n_rev, "solver_evaluations": evals,
               "unburnt_period_s": p1, "intermediate_periapsis_height_m": 2 * a_mid - r_a - r_site,
               "speed_at_pdi_m_s": float(np.linalg.norm(y[3:6])),
               "burn2_pitch_deg": math.degrees(float(x2[1]))}
    return LoweringResult(burns, res.trajectory,
                          SpacecraftState.from_vector(et_pdi, y), figures)
