"""Powered descent of a lunar lander, from ~15 km to touchdown (Chang'e-3/5 sequence): the entry points.

:func:`fly_powered_descent` flies the whole closed loop (:mod:`guanghan.gnc.powered_descent_loop`:
main braking, rapid adjustment, approach with optional coarse hazard avoidance, hover with hazard
avoidance, divert, slow vertical descent, cut-off, touchdown) after checking that the inputs allow
it (:mod:`guanghan.gnc.powered_descent_checks`) and planning the braking; :func:`fly_terminal_descent`
enters the same loop at the hover, for studies of the terminal descent and hazard avoidance alone.

Assumptions and limitations
    * The braking gate (height, up-range distance, speed), the gains and the re-plan periods are
      tunables of :class:`DescentProfile`, not Chang'e flight values (those are not public).
    * Coarse hazard avoidance in the approach is a callback, ``choose_approach_site(estimate)``,
      run once at ``approach_decision_height_m`` (:mod:`guanghan.gnc.approach_hazard_avoidance`);
      it re-targets the hover point and the approach is re-planned at once.
    * Infeasible inputs raise :class:`DescentInputError` before the flight, naming the input at
      fault (the vehicle, the profile, or the navigation's initial error when a braking plan
      exists from the true start but not from the estimate); a gate out of reach raises
      :class:`~guanghan.errors.GuidanceFailure`. Failures in flight (crash, propellant
      exhausted, time limit, no approach solution) return ``success = False`` with a reason.
    * The propellant need checked up front is an estimate (braking plan + approach plan from the
      nominal gate + hover/divert/descent at hover thrust).

References
    Zhang, H. et al. (2014), Scientia Sinica Technologica 44(4), 377–384 (the Chang'e-3 phase
    sequence); see :mod:`guanghan.gnc.powered_descent_loop` and
    :mod:`guanghan.gnc.convex_descent_guidance`.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from guanghan.dynamics.powered_descent_dynamics import SiteFrame
from guanghan.dynamics.propulsion import delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.environment.gravity_field import GravityField
from guanghan.errors import GuidanceFailure
from guanghan.gnc import powered_descent_checks as checks
from guanghan.gnc.descent_navigation import SensorConfig
from guanghan.gnc.powered_descent_config import (DescentInputError, DescentProfile, DescentResult,
                                                 DescentTarget, LanderConfig, StateEstimate)
from guanghan.gnc.powered_descent_loop import DescentLoop

__all__ = ["LanderConfig", "DescentTarget", "DescentProfile", "SensorConfig", "StateEstimate",
           "DescentResult", "DescentInputError", "fly_powered_descent", "fly_terminal_descent",
           "start_state_uprange"]


def start_state_uprange(et: float, target: DescentTarget, range_m: float, altitude_m: float,
                        speed_m_s: float, mass_kg: float, approach_azimuth_deg: float = 90.0,
                        flight_path_angle_deg: float = 0.0) -> SpacecraftState:
    """A descent start ``range_m`` (arc, m) up-range of the site along the approach azimuth
    (deg from north: the heading of the ground track), at ``altitude_m``, moving toward the
    site at ``speed_m_s`` relative to the ground (flight-path angle from the local horizontal)."""
    frame = SiteFrame.at_site(target.latitude_deg, target.longitude_deg, et, target.radius_m)
    p = frame.point_uprange(range_m, approach_azimuth_deg + 180.0, altitude_m)
    up = frame.local_up(p)
    az = math.radians(approach_azimuth_deg)
    fwd = np.array([math.sin(az), math.cos(az), 0.0])
    fwd = fwd - up * (fwd @ up)
    fwd /= np.linalg.norm(fwd)
    gam = math.radians(flight_path_angle_deg)
    return frame.to_state(et, p, speed_m_s * (math.cos(gam) * fwd + math.sin(gam) * up), mass_kg)


def _as_rng(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, (int, np.integer)) and not isinstance(rng_or_seed, bool):
        return np.random.default_rng(int(rng_or_seed))
    raise TypeError(f"rng_or_seed = {rng_or_seed!r}: give an int seed or a numpy Generator")


def _propellant_need(loop: DescentLoop, braking, m0: float) -> tuple[float, float, str | None]:
    """(propellant kg, estimated final mass kg, why the approach from the nominal gate has no
    plan or None): braking plan + approach plan from the gate + hover, divert and vertical
    descent at hover thrust (m g); without an approach plan, the gate speed plus 120 s of
    gravity loss stand in for it."""
    lander, prof, g = loop.lander, loop.profile, loop.g_surface
    m_gate = float(braking.mass_kg[-1])
    try:
        approach = loop.plan_approach(braking.r_m[-1], braking.v_m_s[-1], m_gate)
        m_hover, why = float(approach.mass_kg[-1]), None
    except ValueError as exc:
        m_hover = m_gate * math.exp(-(prof.braking_end_speed_m_s + g * 120.0)
                                    / (lander.engine.isp_s * STANDARD_GRAVITY))
        dist = float(np.linalg.norm(braking.r_m[-1] - loop.hover_point))
        why = (f"no approach from the braking gate ({prof.braking_end_altitude_m} m up, "
               f"{prof.braking_end_range_m} m up-range, {dist:.0f} m from the hover point) to the "
               f"hover within approach_max_tilt_deg = {prof.approach_max_tilt_deg} and "
               f"approach_glide_slope_deg = {prof.approach_glide_slope_deg} ({exc}); stopping "
               f"from it takes at least {prof.braking_end_speed_m_s ** 2 / (2.0 * dist):.2f} m/s² "
               f"(v²/2d) against {lander.max_thrust_n / m_gate:.2f} m/s² of thrust")
    m_final = checks.terminal_final_mass_kg(lander, prof, m_hover, g)
    return m0 - m_final, m_final, why


def _blame_navigation(loop: DescentLoop, m: float) -> None:
    """Raise :class:`DescentInputError` on the navigation's initial sigmas when the braking plan
    exists from the TRUE start but not from the estimate (the initial navigation error, not the
    vehicle or the profile, makes the descent impossible); return otherwise."""
    try:
        loop.plan_braking(loop.dyn.y[0:3].copy(), loop.dyn.y[3:6].copy(), m)
    except ValueError:
        return
    sens = loop.nav.cfg
    dp = float(np.linalg.norm(loop.nav.p - loop.dyn.y[0:3]))
    dv = float(np.linalg.norm(loop.nav.v - loop.dyn.y[3:6]))
    t_brake = float(np.linalg.norm(loop.dyn.y[3:6])) * m / loop.lander.max_thrust_n
    # the error that moves the braking end more: the velocity's over the braking time, or the position's
    name, value = ("initial_velocity_sigma_m_s", sens.initial_velocity_sigma_m_s) \
        if dv * t_brake >= dp else ("initial_position_sigma_m", sens.initial_position_sigma_m)
    raise DescentInputError(name, value, (
        f"the navigation starts {dp:.0f} m and {dv:.2f} m/s off the true state (initial_position_"
        f"sigma_m = {sens.initial_position_sigma_m}, initial_velocity_sigma_m_s = "
        f"{sens.initial_velocity_sigma_m_s}): no braking plan exists from that estimate, while "
        f"the true state has one"))


def _setup(start_state, lander, target, terrain_height_m, sensors, choose_site, rng_or_seed,
           profile, field_, **approach) -> DescentLoop:
    profile = profile or DescentProfile()
    sensors = sensors or SensorConfig()
    for name, f in (("choose_site", choose_site),
                    ("choose_approach_site", approach.get("choose_approach_site"))):
        if f is not None and not callable(f):
            raise DescentInputError(name, f, "must be callable or None")
    loop = DescentLoop(start_state, lander, target, terrain_height_m, sensors, choose_site,
                 _as_rng(rng_or_seed), profile, field_, **approach)
    checks.check_vehicle(lander, start_state.mass, loop.g_surface)
    return loop


def fly_powered_descent(start_state: SpacecraftState, lander: LanderConfig, target: DescentTarget,
                        terrain_height_m: Callable, sensors: SensorConfig | None = None,
                        choose_site: Callable | None = None, rng_or_seed=0,
                        profile: DescentProfile | None = None,
                        field: GravityField | None = None,
                        choose_approach_site: Callable | None = None,
                        approach_decision_height_m: float = 2000.0) -> DescentResult:
    """Fly the powered descent from ``start_state`` (Moon-centred, any known frame) to touchdown.

    ``terrain_height_m(east_m, north_m)``: terrain height (m) above the sphere through the aim
    point, at site-frame east/north (m). ``choose_site(estimate: StateEstimate) -> (east_m,
    north_m)``: hazard avoidance at the hover (None: land at the aim point);
    ``choose_approach_site``, same signature: coarse avoidance in the approach, called once when
    the estimated height over the terrain falls to ``approach_decision_height_m`` (None: keep
    the aim). ``field``: optional
    spherical-harmonic lunar field for the truth gravity (navigation and guidance keep the
    point mass). Raises :class:`DescentInputError` for impossible inputs and
    :class:`~guanghan.errors.GuidanceFailure` if no initial braking plan exists at all; failures
    in flight return ``success = False`` with a reason."""
    wall0 = time.perf_counter()
    loop = _setup(start_state, lander, target, terrain_height_m, sensors, choose_site,
                  rng_or_seed, profile, field, choose_approach_site=choose_approach_site,
                  approach_decision_height_m=approach_decision_height_m)
    profile = loop.profile
    checks.check_start_height(lander, profile,
                              float(loop.frame.altitude(loop.dyn.y[0:3])) - loop.h_site)
    checks.check_gate_speed(lander, profile)
    p, v, m = loop.nav.p, loop.nav.v, start_state.mass
    c = lander.engine.isp_s * STANDARD_GRAVITY
    dv_min = float(np.linalg.norm(v)) + loop.g_surface * (
        lander.hover_duration_s + lander.hover_altitude_m / lander.vertical_descent_speed_m_s)
    need_min = m * -math.expm1(-dv_min / c)            # ideal lower bound, before any planning
    if need_min > m - lander.dry_mass_kg:
        raise DescentInputError("start_state.mass", m,
                                f"carries {m - lander.dry_mass_kg:.1f} kg of propellant above "
                                f"dry_mass_kg = {lander.dry_mass_kg} kg; the descent needs "
                                f"~{need_min:.1f} kg at least (ideal Δv {dv_min:.0f} m/s)")
    try:
        plan = loop.plan_braking(p, v, m)
    except ValueError as exc:
        _blame_navigation(loop, m)
        raise GuidanceFailure("powered_descent", f"no braking solution: {exc}") from None
    if plan.kind != "fuel_optimal" and plan.miss_m > profile.max_divert_m:
        raise GuidanceFailure("powered_descent", (
            f"the braking gate is out of reach from this start: the closest braking arc ends "
            f"{plan.miss_m / 1e3:.1f} km from it (start farther up-range, or lighter)"))
    need, m_final, no_approach = _propellant_need(loop, plan, m)
    checks.check_min_throttle(lander, m_final, loop.g_surface)
    if no_approach and m_final > lander.dry_mass_kg:
        raise DescentInputError("braking_end_speed_m_s", profile.braking_end_speed_m_s, no_approach)
    checks.check_propellant(lander, profile, m, need,
                            "the braking plan, then the approach (planned within approach_max_tilt_deg "
                            f"= {profile.approach_max_tilt_deg}), hover and the divert reserve")
    loop.run(plan)
    return descent_result(loop, wall0, need)


def fly_terminal_descent(start_state: SpacecraftState, lander: LanderConfig,
                         target: DescentTarget, terrain_height_m: Callable,
                         sensors: SensorConfig | None = None, choose_site: Callable | None = None,
                         rng_or_seed=0, profile: DescentProfile | None = None,
                         field: GravityField | None = None) -> DescentResult:
    """Fly only the terminal phases: from a hover over the aim point (``start_state``, hover
    height ``lander.hover_altitude_m`` over the terrain at the aim, near-zero ground speed),
    through the hazard decision, divert, slow vertical descent and cut-off to touchdown.

    The same closed loop as :func:`fly_powered_descent` entered in its ``hover`` phase, for studies
    of the terminal descent alone (hazard avoidance over many terrains costs ~1 s each instead of
    ~6 s with the braking). ``sensors`` sets the navigation errors at the hover (its initial
    sigmas). Same arguments, errors and result."""
    wall0 = time.perf_counter()
    loop = _setup(start_state, lander, target, terrain_height_m, sensors, choose_site,
                  rng_or_seed, profile, field)
    m, g = start_state.mass, loop.g_surface
    m_final = checks.terminal_final_mass_kg(lander, loop.profile, m, g)
    checks.check_propellant(lander, loop.profile, m, m - m_final,
                            "hover, vertical descent and the divert reserve")
    checks.check_min_throttle(lander, m_final, g)
    loop.dyn.d[:] = loop.frame.local_up(loop.dyn.y[0:3])      # hovering: thrust straight up
    loop.set_phase("hover")
    loop.run(None)
    return descent_result(loop, wall0, m - m_final)


def descent_result(loop: DescentLoop, wall0: float, need: float) -> DescentResult:
    """The :class:`DescentResult` of a flown loop: series, events, figures (``need``: the
    propellant estimate checked before the flight, kg; ``wall0``: its start, perf_counter s)."""
    rows = loop.rows
    cols = list(zip(*rows, strict=True))
    arr = lambda i: np.array(cols[i], dtype=float)          # noqa: E731
    t = arr(0)
    p_true = np.column_stack([arr(1), arr(2), arr(3)])
    v_true = np.column_stack([arr(4), arr(5), arr(6)])
    p_est = np.column_stack([arr(8), arr(9), arr(10)])
    v_est = np.column_stack([arr(11), arr(12), arr(13)])
    up = loop.frame.local_up(p_true)
    vu = np.sum(v_true * up, axis=1)
    series = dict(t_s=t, et=loop.et0 + t, position_m=p_true, velocity_m_s=v_true,
                  position_est_m=p_est, velocity_est_m_s=v_est, height_m=arr(17),
                  speed_horizontal_m_s=np.linalg.norm(v_true - vu[:, None] * up, axis=1),
                  speed_vertical_m_s=vu, throttle=arr(14), tilt_deg=arr(15), mass_kg=arr(7),
                  phase=np.array(cols[16]), nav_error_m=np.linalg.norm(p_est - p_true, axis=1),
                  nav_velocity_error_m_s=np.linalg.norm(v_est - v_true, axis=1))
    m0, m1 = loop.m0, float(loop.dyn.y[6])
    isp = loop.lander.engine.isp_s
    td = loop.touchdown or {}
    figures = dict(
        duration_s=float(t[-1]), propellant_kg=m0 - m1, final_mass_kg=m1,
        delta_v_m_s=delta_v_from_masses(m0, m1, isp), propellant_estimate_kg=need,
        hover_altitude_m=loop.lander.hover_altitude_m, divert_distance_m=loop.divert_distance,
        site_east_m=float(loop.site[0]), site_north_m=float(loop.site[1]),
        guidance_solves=loop.guid.solve_count, guidance_replans=loop.replans,
        guidance_solve_time_mean_s=loop.guid.solve_time_s / max(loop.guid.solve_count, 1),
        guidance_solve_time_total_s=loop.guid.solve_time_s,
        nav_error_final_m=float(series["nav_error_m"][-1]),
        nav_error_max_m=float(series["nav_error_m"].max()),
        wall_time_s=time.perf_counter() - wall0)
    if td:
        miss_site = math.hypot(td["east_m"] - loop.site[0], td["north_m"] - loop.site[1])
        lat, lon = loop.frame.latlon_deg(loop.dyn.y[0:3])
        figures.update(touchdown_east_m=td["east_m"], touchdown_north_m=td["north_m"],
                       touchdown_latitude_deg=lat, touchdown_longitude_deg=lon,
                       miss_from_aim_m=math.hypot(td["east_m"], td["north_m"]),
                       miss_from_site_m=miss_site,
                       touchdown_vertical_speed_m_s=td["vertical_m_s"],
                       touchdown_horizontal_speed_m_s=td["horizontal_m_s"])
    return DescentResult(loop.failure is None and bool(td), loop.failure, series, loop.events,
                         figures, loop.frame)
