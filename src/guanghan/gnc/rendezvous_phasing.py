"""Far-range rendezvous phasing: ground-planned finite burns taking the chaser from its insertion
orbit to the hand-over point (a fixed offset in the target's Hill frame) at a planned epoch.

Two-body design of the ``burn_count`` = N (3 or 4) burns (:mod:`guanghan.gnc.phasing_two_body`).
Burn 1, at an apoapsis of the insertion orbit after ``first_burn_delay_s``, along the velocity,
moves the opposite apsis to the phasing radius r_ph; for N = 4 burn 2 circularises there half a
transfer orbit later (Hohmann, Curtis 2020 §6.2). r_ph sets the phasing rate (Vallado 2013 §6.6):
it is solved (Brent) so that after m whole revolutions the chaser reaches the departure point of
the final transfer, θ_L (``transfer_angle_deg``) short of the hand-over direction; of the roots
within the altitude bounds the one of least Δv is kept. The last two burns are the Lambert arc
over θ_L and the match of the hand-over velocity, that of a coelliptic orbit,
ρ̇ = [0, −(3/2) n Δr, 0] (the Apollo TPI/TPF pair; Fehse 2003 ch. 3). Given a deadline instead of
an epoch, 24 arrival epochs over the last target period before it are tried and the cheapest kept.

Then on the full force model, every burn finite (constant thrust, fixed inertial direction,
rocket-equation duration): the secant method on burn 1's Δv restores the phase at the final
transfer's departure (burn 2 re-circularising from the flown state), and Newton's method with a
finite-difference Jacobian solves the last two burns' Δv vectors (6 unknowns) for the hand-over
position and velocity (6 equations) at the arrival epoch, as :mod:`guanghan.gnc.orbit_lowering`
does (Lambert's problem: :func:`guanghan.dynamics.lambert.lambert`).

Assumptions and limitations
    * Ground-planned on true states (perfect orbit determination);
      :func:`guanghan.gnc.phasing_flight.fly_phasing` flies a design with execution errors and
      the ground's re-plan of the final transfer.
    * Burns 1–2 are timed on Kepler orbits (on a lumpy field near, not at, the apsides); plane
      differences are removed by the final transfer only; the model's own burns are replaced.
    * The hand-over velocity is CW's coelliptic drift at the target's osculating mean motion.

References
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications* (4th ed., 2013),
    Algorithm 58 (Lambert, universal variables), §6.6 (circular rendezvous, coplanar phasing).
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), Algorithm 5.2
    (Lambert), §6.2 (Hohmann transfer), eq. 2.71 (vis-viva).
    Fehse, W., *Automated Rendezvous and Docking of Spacecraft* (2003), ch. 2–3 (phasing,
    far-range rendezvous, coelliptic approach).
    Nocedal, J. & Wright, S. J., *Numerical Optimization* (2nd ed., 2006), §11.1, §3.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.forces import FiniteBurn, ForceModel
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import Engine, burn_duration, delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc import relative_navigation as rn
from guanghan.gnc.phasing_two_body import (
    angle_about,
    circular_velocity,
    handover_aim,
    kepler_state,
    lambert_pair,
    two_body_design,
)

_MIN_DV = 1e-4            # m/s: a smaller burn is not flown
_FD_DV = 1e-3             # m/s: finite-difference step of the Newton Jacobian
_VEL_WEIGHT_S = 1000.0    # s: 1 mm/s of velocity miss weighs as 1 m of position miss
#: default integration tolerances of the design: rtol 1e-10, 1 mm
TOLERANCES = Tolerances(rtol=1e-10, atol_m=1e-3)


class PhasingPlan(ConfigModel):
    """Far-range phasing: burns, hand-over point (target Hill frame), arrival epoch or deadline."""

    burn_count: int = Field(default=4, ge=3, le=4, description="finite burns, 3 or 4")
    handover_along_track_km: float = Field(default=50.0, ge=-1000, le=1000, description=(
        "hand-over point along-track from the target (km), + ahead"))
    handover_radial_km: float = Field(default=10.0, ge=-100, le=100, description=(
        "hand-over point radial offset from the target (km), + above"))
    arrival_utc: str | None = Field(default=None, description="hand-over epoch (UTC)")
    arrival_deadline_h: float | None = Field(default=None, gt=0, le=480, description=(
        "or: hand-over at the latest this many hours after the chaser's initial epoch"))
    first_burn_delay_s: float = Field(default=1800.0, ge=0, le=86400, description=(
        "no burn before this time (s) after the chaser's initial epoch (tracking)"))
    transfer_angle_deg: float = Field(default=150.0, ge=60, le=170, description=(
        "angle swept by the final Lambert transfer (deg)"))
    phasing_altitude_min_km: float = Field(default=20.0, ge=5, le=5000)
    phasing_altitude_max_km: float = Field(default=400.0, ge=5, le=5000)

    @model_validator(mode="after")
    def _check(self):
        if (self.arrival_utc is None) == (self.arrival_deadline_h is None):
            fail("give exactly one of arrival_utc and arrival_deadline_h", "arrival_utc", self.arrival_utc)
        if self.arrival_utc is not None:
            try:
                spice_kernels.utc_to_et(self.arrival_utc)
            except ValueError as exc:
                fail(str(exc), "arrival_utc", self.arrival_utc)
        if self.phasing_altitude_min_km >= self.phasing_altitude_max_km:
            fail(f"must be below phasing_altitude_max_km = {self.phasing_altitude_max_km}",
                 "phasing_altitude_min_km", self.phasing_altitude_min_km)
        return self


@dataclass(frozen=True)
class PhasingBurn:
    """A designed burn: start epoch (ET s), duration (s), ideal Δv (m/s), fixed J2000 direction,
    propellant (kg)."""

    name: str
    start_et: float
    duration_s: float
    delta_v_m_s: float
    direction_j2000: np.ndarray
    propellant_kg: float


@dataclass
class PhasingResult:
    """Designed burns, the flown trajectories and the arrival relative state (Hill frame of the
    target: [ρ (m), ρ̇ (m/s)]) against the aim."""

    burns: list[PhasingBurn]
    finite_burns: list[FiniteBurn]
    arrival_et: float
    arrival_relative: np.ndarray
    aim_relative: np.ndarray
    total_delta_v_m_s: float
    propellant_kg: float
    trajectory: object
    target_trajectory: object
    figures: dict = field(default_factory=dict)
    #: the two-body final pair [(t_L, Δv), (t_arr, Δv)] and the hand-over state aimed at (J2000),
    #: kept for a re-plan of the final transfer from a flown orbit
    final_pair: list = field(default_factory=list)
    aim_rv: np.ndarray | None = None
    #: how many of ``finite_burns`` come before the final pair
    phasing_burn_count: int | None = None
    #: the flight's re-plan of the final pair with what it was solved from
    #: (:class:`guanghan.gnc.phasing_flight.SolvedFinalPair`; None for a design or without re-plan)
    final_pair_solution: object | None = None

    @property
    def arrival_error_m(self) -> float:
        return float(np.linalg.norm(self.arrival_relative[:3] - self.aim_relative[:3]))

    @property
    def arrival_velocity_error_m_s(self) -> float:
        return float(np.linalg.norm(self.arrival_relative[3:] - self.aim_relative[3:]))


# ------------------------------------------------------------------------ two-body design


# ------------------------------------------------------------------------ full force model


def _finite(et: float, dv: np.ndarray, mass: float, engine: Engine,
            centred: bool = True) -> tuple[FiniteBurn | None, float]:
    """A fixed-direction finite burn of ideal Δv ``dv`` (m/s) centred on (or ending at) ``et``:
    (burn, or None if negligible; mass after it (kg))."""
    mag = float(np.linalg.norm(dv))
    if mag < _MIN_DV:
        return None, mass
    d = burn_duration(mass, mag, engine.total_thrust_n, engine.isp_s)
    start = et - 0.5 * d if centred else et - d
    return (FiniteBurn(start, d, engine.total_thrust_n, engine.isp_s, "inertial", tuple(dv / mag)),
            mass - engine.mass_flow_kg_s * d)


def _state_at(traj, et: float) -> np.ndarray:
    return traj.states([et])[0]


def design_phasing(chaser: SpacecraftState, target: SpacecraftState, model: ForceModel,
                   engine: Engine, plan: PhasingPlan, tolerances: Tolerances = TOLERANCES,
                   max_iterations: int = 12) -> PhasingResult:
    """Design the phasing burns of ``chaser`` to the hand-over point of ``target`` (Moon-centred
    J2000 states; the target's epoch not after the chaser's) on ``model``."""
    if target.et > chaser.et:
        raise InputError("the target's state must not be later than the chaser's", quantity="target.et",
                         value=target.et, limit=chaser.et)
    mu, t0 = model.central.mu, chaser.et
    xc = np.concatenate([chaser.r, chaser.v])
    xt = kepler_state(np.concatenate([target.r, target.v]), t0 - target.et, mu)
    period_t = 2 * math.pi / rn.mean_motion(xt, mu)
    if plan.arrival_utc is not None:
        arrivals = [spice_kernels.utc_to_et(plan.arrival_utc)]
    else:
        deadline = t0 + plan.arrival_deadline_h * 3600.0
        arrivals = list(deadline - period_t * np.arange(24) / 24.0)
    if arrivals[0] - t0 < plan.first_burn_delay_s + period_t:
        raise InputError(f"the hand-over comes {(arrivals[0] - t0) / 3600:.2f} h after the chaser's "
                         f"epoch; the phasing needs at least the first-burn delay plus one target "
                         f"period ({(plan.first_burn_delay_s + period_t) / 3600:.2f} h)",
                         quantity="arrival_utc" if plan.arrival_utc else "arrival_deadline_h",
                         value=plan.arrival_utc or plan.arrival_deadline_h)
    designs = [d for d in (two_body_design(plan, xc, xt, t0, t, mu) for t in arrivals) if d]
    if not designs:
        raise GuidanceFailure("rendezvous_phasing", (
            f"no phasing orbit between {plan.phasing_altitude_min_km} and "
            f"{plan.phasing_altitude_max_km} km "
            f"reaches the hand-over point by the arrival epoch"))
    design = min(designs, key=lambda d: d["two_body_delta_v_m_s"])
    t_arr = design["t_arr"]
    tgt_traj = propagate(target, t_arr + 1.0, replace(model, burns=[]), tolerances).trajectory
    aim_rel, aim_rv = handover_aim(plan, _state_at(tgt_traj, t_arr)[:6], mu)
    plan_burns = design["burns"]
    phasing, mass, counts = _solve_phase(chaser, model, engine, plan, plan_burns, aim_rv, tolerances,
                                         max_iterations)
    final, counts["newton"] = solve_final_pair(chaser, model, engine, phasing, mass, plan_burns[-2:],
                                               aim_rv, t_arr, tolerances, max_iterations)
    burns = phasing + final
    result = propagate(chaser, t_arr, replace(model, burns=burns), tolerances)
    y = result.trajectory.final_state
    arrival = rn.relative_state(_state_at(tgt_traj, t_arr)[:6], y[:6])
    records, m = [], chaser.mass
    for i, b in enumerate(burns):
        m1 = m - engine.mass_flow_kg_s * b.duration_s
        records.append(PhasingBurn(f"phasing_{i + 1}", b.start_et, b.duration_s,
                                   delta_v_from_masses(m, m1, engine.isp_s), np.array(b.vector_j2000),
                                   m - m1))
        m = m1
    total = sum(r.delta_v_m_s for r in records)
    figures = {"two_body_delta_v_m_s": design["two_body_delta_v_m_s"], **counts,
               **{k: design[k] for k in ("phasing_altitude_km", "phasing_revolutions") if k in design}}
    if np.linalg.norm(arrival[:3] - aim_rel[:3]) > 100.0 or np.linalg.norm(arrival[3:] - aim_rel[3:]) > 0.1:
        raise GuidanceFailure("rendezvous_phasing", (
            f"no solution: the hand-over is missed by {np.linalg.norm(arrival[:3] - aim_rel[:3]):.0f} m "
            f"and {np.linalg.norm(arrival[3:] - aim_rel[3:]):.3f} m/s"))
    return PhasingResult(records, burns, t_arr, arrival, aim_rel, total, chaser.mass - float(y[6]),
                         result.trajectory, tgt_traj, figures, list(plan_burns[-2:]), aim_rv, len(phasing))


def _solve_phase(chaser, model, engine, plan, plan_burns, aim_rv, tol, max_iterations):
    """Secant on burn 1's Δv for the phase at the final transfer's departure: (burns, mass after
    them, solver figures). Burn 2 (N = 4) re-circularises from the flown state."""
    t_l, theta_l, mu = plan_burns[-2][0], math.radians(plan.transfer_angle_deg), model.central.mu
    t1, dv1 = plan_burns[0]
    u1 = dv1 / np.linalg.norm(dv1)

    def fly(mag):
        b1, m = _finite(t1, mag * u1, chaser.mass, engine)
        burns = [b1] if b1 else []
        if plan.burn_count == 4:
            t2 = plan_burns[1][0]
            x2 = _state_at(propagate(chaser, t2, replace(model, burns=burns), tol).trajectory, t2)
            b2, m = _finite(t2, circular_velocity(x2, mu) - x2[3:6], m, engine)
            burns += [b2] if b2 else []
        x_l = propagate(chaser, t_l, replace(model, burns=burns), tol).trajectory.final_state
        err = angle_about(x_l[:3], aim_rv[:3], np.cross(x_l[:3], x_l[3:6])) - theta_l
        return (err + math.pi) % (2 * math.pi) - math.pi, burns, m

    x_prev = f_prev = None
    x_cur = float(np.linalg.norm(dv1))
    f_cur, burns, mass = fly(x_cur)
    k = 0
    for k in range(1, max_iterations + 1):
        if abs(f_cur) < 2e-4:                     # rad: ~0.4 km at the departure point
            break
        x_next = x_cur + 0.05 if x_prev is None else x_cur - f_cur * (x_cur - x_prev) / (f_cur - f_prev)
        x_prev, f_prev, x_cur = x_cur, f_cur, x_next
        f_cur, burns, mass = fly(x_cur)
    return burns, mass, {"secant": k, "departure_phase_error_deg": math.degrees(f_cur)}


def solve_final_pair(chaser: SpacecraftState, model: ForceModel, engine: Engine, phasing: list[FiniteBurn],
                     mass: float, pair: list, aim_rv: np.ndarray, t_arr: float, tol: Tolerances,
                     max_iterations: int = 12) -> tuple[list[FiniteBurn], int]:
    """The final transfer's two burns (departure at ``pair[0]``'s epoch, hand-over match ending at
    ``t_arr``) after ``phasing`` from ``chaser``: Newton on their Δv vectors for the hand-over
    state ``aim_rv`` (J2000) at ``t_arr``, started from the Lambert pair of the coast; (burns,
    iterations). ``mass`` (kg): the chaser's after ``phasing``, for the departure's duration guess."""
    t_l, mu = pair[0][0], model.central.mu
    d_guess = burn_duration(mass, float(np.linalg.norm(pair[0][1])) + 50.0, engine.total_thrust_n,
                            engine.isp_s)
    t_ref = t_l - 0.5 * d_guess - 60.0                # before any trial departure burn starts
    coast = propagate(chaser, t_l, replace(model, burns=phasing), tol).trajectory
    ref = SpacecraftState.from_vector(t_ref, coast.states([t_ref])[0])
    u = np.concatenate([d[1] for d in lambert_pair(_state_at(coast, t_l), t_l, aim_rv, t_arr, mu)])

    def burns_for(u):
        b1, m = _finite(t_l, u[:3], ref.mass, engine)
        b2, _ = _finite(t_arr, u[3:], m, engine, centred=False)
        return [b for b in (b1, b2) if b]

    def miss(u):
        y = propagate(ref, t_arr, replace(model, burns=burns_for(u)), tol).trajectory.final_state
        return np.concatenate([y[:3] - aim_rv[:3], (y[3:6] - aim_rv[3:6]) * _VEL_WEIGHT_S])

    m = miss(u)
    k = 0
    for k in range(1, max_iterations + 1):
        if np.all(np.abs(m[:3]) < 1.0) and np.all(np.abs(m[3:]) < 1.0):    # 1 m, 1 mm/s
            break
        jac = np.empty((6, 6))
        for j in range(6):
            du = np.zeros(6)
            du[j] = _FD_DV
            jac[:, j] = (miss(u + du) - m) / _FD_DV
        try:
            step = np.linalg.solve(jac, -m)
        except np.linalg.LinAlgError:
            break
        for _ in range(6):                          # backtracking (Nocedal & Wright §3.1)
            trial = miss(u + step)
            if np.linalg.norm(trial) < np.linalg.norm(m):
                u, m = u + step, trial
                break
            step *= 0.5
        else:
            break
    return burns_for(u), k
