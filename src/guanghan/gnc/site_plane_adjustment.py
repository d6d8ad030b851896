"""Orbit adjustment before a landing: circularise the capture ellipse on the periselene pass that
puts the landing site in the orbit plane at the powered-descent epoch, then trim the plane.

Why the day of circularisation matters: a low retrograde orbit's node drifts under the Moon's
oblateness, Ω̇ = −(3/2) n J2 (R/a)² cos i (Vallado 2013, eq. 9-41: ~+0.7°/day at 220 km and 137°),
while a 220 × 5,300 km capture ellipse's hardly moves (Ω̇ ∝ a^−7/2 (1 − e²)^−2) but is turned by the
Earth's pull; the site meanwhile turns with the Moon. So the epoch at which the stack drops from the
ellipse into the low orbit sets where the low orbit's plane lies on the day of the descent. Chang'e-6
spent ~20 days in lunar orbit before its descent [CE6-ATS]; its burns are not published.

Design, on the scenario's full lunar model (GRGM1200A, Earth, Sun, SRP):

1. The periselene passes of the coasting capture ellipse inside the window (radial velocity
   rising through zero, 30 s samples, linear interpolation).
2. For a pass, the circularisation is taken impulsive (speed set to the circular speed at the pass
   radius, direction kept) and the low orbit is propagated to the descent epoch; the pass's offset
   is the site's angle out of that plane there (asin ŝ·ĥ). Every ``stride``-th pass is scanned,
   then every pass inside each bracket where the offset changes sign; the pass with the least
   |offset| is flown. (The offset is not monotonic in the pass: the Earth's pull on the ellipse
   also turns its inclination.)
3. The circularisation flies as a finite burn (pitch-programmed for the least altitude spread, or
   along −v: :func:`guanghan.gnc.lunar_orbit_insertion.solve_steered_burn`) centred on the pass,
   with execution errors.
4. The plane trim: one burn along ±ĥ (fixed inertial direction) at the point, after the trim's
   earliest epoch, where the along-track direction t̂ = ĥ × r̂ points most nearly at the site's
   direction ŝ at the descent: a normal Δv there turns the site's offset most. From
   h' = r × (v + Δv ĥ): ĥ' ≈ ĥ − (Δv/v) t̂, so Δ sin δ = −(Δv/v)(ŝ·t̂); this gives the first guess,
   and the signed Δv is solved by the secant method for zero offset at the descent epoch on the
   full model (the plane keeps drifting in between).

Assumptions and limitations
    * One circularisation and one trim; the real mission's ~20 days held more burns, not published
      (ASSUMPTION of the scenario that uses this).
    * The circularisation pass is chosen on the impulsive model; the finite burn's small change of
      plane is left to the trim.
    * The trim removes the offset at the descent epoch; the in-plane phase (where along the orbit
      the stack is then) is the orbit lowering's job (:mod:`guanghan.gnc.orbit_lowering`).

References
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications* (4th ed., 2013), eq. 9-41 (J2
    node rate), §6.4 (plane changes). Curtis, H. D., *Orbital Mechanics for Engineering Students*
    (4th ed., 2020), §6.12 (a normal impulse turns the plane about the radius vector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import root_scalar

from guanghan.dynamics.batch_propagation import propagate_batch
from guanghan.dynamics.forces import FiniteBurn, ForceModel
from guanghan.dynamics.patched_flight import PatchedModels
from guanghan.dynamics.propagator import PropagationResult, Tolerances, propagate
from guanghan.dynamics.propulsion import Engine, burn_duration, delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import time_scales
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc import lunar_orbit_insertion as loi
from guanghan.gnc.execution_errors import (
    ExecutionErrors,
    dispersed,
    error_draws,
    tracked_tilt,
)
from guanghan.gnc.lunar_transfer_flight import lunar_orbit_figures

#: offset (rad) below which the trim is done: 1e-7 rad is 0.2 m at the Moon's surface
_OFFSET_TOL_RAD = 1e-7
#: Δv (m/s) below which no trim burn is flown
_MIN_TRIM_M_S = 1e-3


@dataclass(frozen=True)
class AdjustmentDesign:
    """What the ground designs, kept to fly again: the chosen periselene pass (ET s, the
    circularisation's middle), its predicted offset (deg, impulsive model), the trim's ignition
    (ET s) and how many passes the scan propagated; once flown, the circularisation burn as solved
    from the flown state at its ignition, and the trim's (signed Δv m/s, site offsets before and
    after rad) as solved from the flown state at its ignition (each flown again from that same
    state only)."""

    circularisation_et: float
    predicted_offset_deg: float
    trim_et: float
    passes_scanned: int
    circularisation: loi.SolvedLoi | None = None
    trim_from: SpacecraftState | None = None
    trim_solution: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class AdjustmentProblem:
    """The stack's engines for the two burns, the aim and the epochs (ET s), the site (J2000 unit
    vector at the descent epoch), the propellant (kg) each burn's module has, the execution errors."""

    circularisation_engine: Engine
    trim_engine: Engine
    mean_altitude_m: float
    steering: str                       # "pitch_programme" or "retrograde"
    et_descent: float
    site_j2000: np.ndarray
    window: tuple[float, float]         # circularisation passes considered (ET s)
    trim_not_before_et: float
    end_et: float
    circularisation_propellant_kg: float
    trim_propellant_kg: float
    errors: ExecutionErrors
    stride: int = 4


@dataclass
class AdjustmentResult:
    """The flown leg: final state, the propagated pieces, the burns flown, events, figures (keys
    without the group prefix; ``final_*`` the low orbit over one revolution at the end),
    propellant (kg) of each burn, the design, and the pass scan ((epoch ET s, predicted offset
    rad) per propagated pass; empty when flown from a design)."""

    final_state: SpacecraftState
    legs: list[PropagationResult]
    burns: dict[str, FiniteBurn]
    events: list[dict]
    figures: dict
    propellant_kg: dict[str, float]
    design: AdjustmentDesign
    scan: list[tuple[float, float]]


def site_offset_rad(y: np.ndarray, site_unit: np.ndarray) -> float:
    """Angle (rad) of the unit vector ``site_unit`` out of the plane of state ``y`` (r, v), positive
    on the side of the angular momentum."""
    h = np.cross(y[:3], y[3:6])
    return math.asin(float(np.clip(site_unit @ h / np.linalg.norm(h), -1.0, 1.0)))


def periapsis_passes(traj, t0: float, t1: float, step_s: float = 30.0) -> np.ndarray:
    """Epochs (ET s) in [t0, t1] where the radial velocity of ``traj`` rises through zero."""
    ets = np.arange(t0, t1, step_s)
    xs = traj.states(ets)
    rv = np.einsum("ij,ij->i", xs[:, :3], xs[:, 3:6])
    i = np.nonzero((rv[:-1] < 0.0) & (rv[1:] >= 0.0))[0]
    return ets[i] - rv[i] * step_s / (rv[i + 1] - rv[i])


def _window_passes(capture, problem: AdjustmentProblem) -> np.ndarray:
    """The capture ellipse's periselene passes inside the circularisation window; InputError if none."""
    passes = periapsis_passes(capture, *problem.window)
    if passes.size == 0:
        raise InputError("no periselene pass of the capture orbit inside the circularisation window",
                         quantity="circularisation.earliest_utc",
                         value=time_scales.et_to_utc(problem.window[0]))
    return passes


def _circularised(traj, et: float, mu: float) -> SpacecraftState:
    """The impulsive circularisation at ``et``: the speed set to √(μ/r), the direction kept."""
    y = traj.states([et])[0].copy()
    y[3:6] *= math.sqrt(mu / np.linalg.norm(y[:3])) / np.linalg.norm(y[3:6])
    return SpacecraftState.from_vector(et, y)


def choose_pass(capture, model: ForceModel, tol: Tolerances, problem: AdjustmentProblem):
    """(pass epoch ET s, offset rad, scan) of the circularisation pass with the least site offset at
    the descent (steps 1-2 of the module's design), the scan being every propagated pass as
    (epoch ET s, offset rad) in time order; ``capture`` the coasting ellipse's trajectory over the
    window. The coarse passes, then the passes inside the brackets, are each propagated together
    (:func:`~guanghan.dynamics.batch_propagation.propagate_batch`, RKN12(10) coasts on the cores)."""
    passes = _window_passes(capture, problem)
    offsets: dict[int, float] = {}

    def scan(ks: list[int]) -> None:
        if not ks:
            return
        starts = [_circularised(capture, float(passes[k]), model.central.mu) for k in ks]
        res = propagate_batch(starts, problem.et_descent, model, tol, integrator="rkn1210")
        res.raise_on_failure()                          # a coast: the RKN pair needs fewer evaluations
        for k, y in zip(ks, res.final_states, strict=True):
            offsets[k] = site_offset_rad(y, problem.site_j2000)

    coarse = sorted(set(range(0, passes.size, problem.stride)) | {passes.size - 1})
    scan(coarse)
    scan([k for a, b in zip(coarse[:-1], coarse[1:], strict=True)
          if math.copysign(1.0, offsets[a]) != math.copysign(1.0, offsets[b]) for k in range(a + 1, b)])
    best = min(offsets, key=lambda k: abs(offsets[k]))
    return float(passes[best]), offsets[best], [(float(passes[k]), offsets[k]) for k in sorted(offsets)]


def _trim_epoch(traj, t0: float, period_s: float, site: np.ndarray) -> float:
    """The epoch in [t0, t0 + period] where |ŝ·t̂| is largest (t̂ = ĥ × r̂, the along-track unit)."""
    ets = np.arange(t0, t0 + period_s, 10.0)
    xs = traj.states(ets)
    h = np.cross(xs[:, :3], xs[:, 3:6])
    t = np.cross(h, xs[:, :3])
    t /= np.linalg.norm(t, axis=1)[:, None]
    return float(ets[int(np.argmax(np.abs(t @ site)))])


def _trim_burn(state: SpacecraftState, engine: Engine, dv_m_s: float) -> FiniteBurn | None:
    """The burn of signed Δv ``dv_m_s`` along ±ĥ of ``state`` from its epoch; None below 1 mm/s."""
    if abs(dv_m_s) < _MIN_TRIM_M_S:
        return None
    h = np.cross(state.r, state.v)
    u = math.copysign(1.0, dv_m_s) * h / np.linalg.norm(h)
    return FiniteBurn(state.et, burn_duration(state.mass, abs(dv_m_s), engine.total_thrust_n, engine.isp_s),
                      engine.total_thrust_n, engine.isp_s, "inertial", tuple(float(c) for c in u))


def solve_trim(state: SpacecraftState, model: ForceModel, tol: Tolerances, problem: AdjustmentProblem):
    """(signed Δv m/s, offset before rad, offset after rad) of the trim from ``state`` (at its
    ignition): step 4 of the module's design."""
    site = problem.site_j2000

    def offset(dv: float) -> float:
        burn = _trim_burn(state, problem.trim_engine, dv)
        m = replace(model, burns=[burn]) if burn else model
        y = propagate(state, problem.et_descent, m, tol).trajectory.states([problem.et_descent])[0]
        return site_offset_rad(y, site)

    before = offset(0.0)
    t = np.cross(np.cross(state.r, state.v), state.r)
    along = float(site @ t / np.linalg.norm(t))
    guess = math.sin(before) * float(np.linalg.norm(state.v)) / along
    if abs(before) < _OFFSET_TOL_RAD:
        return 0.0, before, before
    sol = root_scalar(offset, method="secant", x0=guess, x1=guess * 1.01 + 1e-3,
                      xtol=1e-5, rtol=1e-9, maxiter=12)
    after = offset(sol.root)
    if not sol.converged or abs(after) > 1e-5:
        raise GuidanceFailure("lunar_orbit_adjustment", f"the plane trim did not converge: the site stays "
                              f"{math.degrees(after):.3f} deg out of the plane")
    return float(sol.root), before, after


def _circularise(start: SpacecraftState, capture, t_c: float, models: PatchedModels,
                 problem: AdjustmentProblem, z: np.ndarray, again: loi.SolvedLoi | None = None):
    """(the solved burn, flown burn pieces) of the circularisation centred on the pass ``t_c`` of
    ``capture`` (step 3), with execution errors from draws ``z``; ``again``, a burn solved before
    from the same state at ignition with the same engine, is flown as it is."""
    model, tol = models.moon, models.tolerances
    eng, mu = problem.circularisation_engine, model.central.mu
    y = capture.states([t_c])[0]
    dv_est = float(np.linalg.norm(y[3:6])) - math.sqrt(mu / np.linalg.norm(y[:3]))
    d_est = burn_duration(start.mass, dv_est, eng.total_thrust_n, eng.isp_s)
    ign = t_c - 0.5 * d_est
    if ign <= start.et:
        raise InputError(f"the circularisation at {t_c - start.et:.0f} s after the leg's start needs "
                         f"{d_est:.0f} s of burn centred on the pass", quantity="circularisation.earliest_utc",
                         value=time_scales.et_to_utc(problem.window[0]))
    s_ign = SpacecraftState.from_vector(ign, capture.states([ign])[0])
    args = (s_ign, eng, loi.LoiAim("mean", problem.mean_altitude_m), models, d_est,
            problem.circularisation_propellant_kg, dv_est)
    kw = {"quantity": "circularisation.engine", "value": None}
    if again is not None and s_ign.close_to(again.start) and \
            (again.burn.thrust_n, again.burn.isp_s) == (eng.total_thrust_n, eng.isp_s):
        solved = again
    else:
        if problem.steering == "pitch_programme":
            planned, spread, spread_plain = loi.solve_steered_burn(*args, **kw)
        else:
            planned = loi.solve_burn(*args, **kw)
            spread = spread_plain = loi.altitude_spread_m(s_ign, planned, models)
        solved = loi.SolvedLoi(s_ign, planned, float(spread), float(spread_plain))
    plan_traj = propagate(s_ign, solved.burn.end_et + 1.0, replace(model, burns=[solved.burn]), tol).trajectory
    return solved, tracked_tilt(solved.burn, problem.errors, z, plan_traj)


def fly_adjustment(start: SpacecraftState, model: ForceModel, tol: Tolerances, problem: AdjustmentProblem,
                   stored: AdjustmentDesign | None = None) -> AdjustmentResult:
    """Design (or take ``stored``) and fly the circularisation and the trim from ``start`` (the
    capture ellipse, Moon-centred J2000) to ``problem.end_et``."""
    mu = model.central.mu
    draws = error_draws(problem.errors, ["circularisation", "trim"])
    capture = propagate(start, problem.window[1] + 86400.0, model, tol).trajectory
    if stored is None:
        t_c, off0, scan = choose_pass(capture, model, tol, problem)
        scanned = len(scan)
    else:       # the flown capture's pass nearest the stored one (a dispersed capture shifts it)
        passes = _window_passes(capture, problem)
        t_c = float(passes[np.argmin(np.abs(passes - stored.circularisation_et))])
        off0, scanned, scan = math.radians(stored.predicted_offset_deg), stored.passes_scanned, []
    models = PatchedModels(model, model, tolerances=tol)        # the Earth-centred model is not used
    again = None if stored is None else stored.circularisation
    solved, circ = _circularise(start, capture, t_c, models, problem, draws["circularisation"], again)
    s_ign, spread, spread_plain = solved.start, solved.steered_m, solved.plain_m
    events = []
    if stored is not None and solved is not again:
        events.append({"et": s_ign.et, "event": "circularisation_redesigned", "details": {
            "reason": "the flown state at ignition is not the one the stored burn was solved from"}})
    after_circ = propagate(s_ign, circ[0].end_et + 600.0, replace(model, burns=circ), tol).trajectory
    a = 1.0 / (2.0 / np.linalg.norm(after_circ.y[-1, :3]) - after_circ.y[-1, 3:6] @ after_circ.y[-1, 3:6] / mu)
    period = 2.0 * math.pi * math.sqrt(a ** 3 / mu)
    t0 = max(problem.trim_not_before_et, circ[0].end_et + period)
    if stored is None:
        preview = propagate(s_ign, t0 + period, replace(model, burns=circ), tol).trajectory
        t_trim = _trim_epoch(preview, t0, period, problem.site_j2000)
    else:
        t_trim = stored.trim_et
    if not t_trim < problem.end_et:
        raise InputError(f"the plane trim's point of the orbit comes at {time_scales.et_to_utc(t_trim)}, "
                         "at or after the leg's end_utc", quantity="plane_trim.not_before_utc",
                         value=time_scales.et_to_utc(problem.trim_not_before_et))
    first = propagate(start, t_trim, replace(model, burns=circ), tol)
    s_trim = first.final_state
    if stored is not None and stored.trim_from is not None and stored.trim_solution is not None \
            and s_trim.close_to(stored.trim_from):
        dv_trim, off_before, off_after = stored.trim_solution
    else:
        dv_trim, off_before, off_after = solve_trim(s_trim, model, tol, problem)
        if stored is not None:
            events.append({"et": s_trim.et, "event": "trim_redesigned", "details": {
                "reason": "the flown state at ignition is not the one the stored trim was solved from"}})
    trim = _trim_burn(s_trim, problem.trim_engine, dv_trim)
    if trim is not None:
        if trim.duration_s * problem.trim_engine.mass_flow_kg_s > problem.trim_propellant_kg:
            raise GuidanceFailure("lunar_orbit_adjustment", f"the plane trim needs {abs(dv_trim):.1f} m/s, "
                                  f"more than the {problem.trim_propellant_kg:.1f} kg of propellant left")
        trim = dispersed(trim, problem.errors, draws["trim"], mass_kg=s_trim.mass)
    second = propagate(s_trim, problem.end_et, replace(model, burns=[trim]) if trim else model, tol)
    end = second.final_state
    y_pd = propagate(end, problem.et_descent, model, tol).trajectory.states([problem.et_descent])[0]
    flown_offset = site_offset_rad(y_pd, problem.site_j2000)

    m0, m1 = first.trajectory.states([circ[0].start_et, circ[0].end_et])[:, 6]
    used = {"circularisation": float(m0 - m1)}
    events += [{"et": circ[0].start_et, "event": "circularisation_start", "details": {"thrust_n": circ[0].thrust_n}},
               {"et": circ[0].end_et, "event": "circularisation_end", "details": {"duration_s": circ[0].duration_s}}]
    r_moon = loi.moon_radius()
    figs = {"circularisation_utc": s_ign.utc, "circularisation_duration_s": circ[0].duration_s,
            "circularisation_delta_v_m_s": delta_v_from_masses(m0, m1, problem.circularisation_engine.isp_s),
            "circularisation_propellant_kg": used["circularisation"],
            "circularisation_ignition_altitude_km": (np.linalg.norm(s_ign.r) - r_moon) / 1e3,
            "circularisation_planned_altitude_spread_km": spread / 1e3,
            "circularisation_retrograde_altitude_spread_km": spread_plain / 1e3,
            "predicted_site_offset_deg": math.degrees(off0),
            "passes_scanned_count": scanned,
            "site_offset_before_trim_km": off_before * r_moon / 1e3,
            "trim_utc": s_trim.utc, "trim_planned_delta_v_m_s": abs(dv_trim), "trim_delta_v_m_s": 0.0,
            "site_offset_km": flown_offset * r_moon / 1e3,
            **{k.replace("lunar_orbit.", "final_"): v for k, v in lunar_orbit_figures(end, models).items()}}
    burns = {"circularisation": circ[0]}
    if trim is not None:
        m2, m3 = second.trajectory.states([trim.start_et, trim.end_et])[:, 6]
        used["trim"] = float(m2 - m3)
        figs["trim_propellant_kg"] = used["trim"]
        figs["trim_delta_v_m_s"] = delta_v_from_masses(m2, m3, problem.trim_engine.isp_s)
        burns["trim"] = trim
        events += [{"et": trim.start_et, "event": "plane_trim_start", "details": {"delta_v_m_s": abs(dv_trim)}},
                   {"et": trim.end_et, "event": "plane_trim_end", "details": {"duration_s": trim.duration_s}}]
    design = AdjustmentDesign(t_c, math.degrees(off0), t_trim, scanned, solved, s_trim,
                              (float(dv_trim), float(off_before), float(off_after)))
    return AdjustmentResult(end, [first, second], burns, events, figs, used, design, scan)
