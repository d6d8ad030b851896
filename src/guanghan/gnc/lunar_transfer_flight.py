"""The flown Earth–Moon transfer: designed injection with errors, midcourse corrections, LOI burns.

:func:`fly_transfer` plans and flies a :class:`~guanghan.gnc.lunar_transfer_plan.TransferProblem`
on the patched full force model (:func:`~guanghan.dynamics.patched_flight.build_models`):

1. plan: the impulsive LOI sequence (:func:`~guanghan.gnc.lunar_orbit_insertion.impulsive_sequence`)
   gives the middle of the first LOI burn, where the transfer puts its periselene; the injection is
   designed for it (:func:`~guanghan.gnc.lunar_transfer_design.design_transfer`), and designed again
   once if the designed arrival speed moves that middle by more than 0.5 s;
2. fly: the injection with seeded errors (one ``numpy.random.SeedSequence``: position then
   velocity, per J2000 axis); at each midcourse epoch a correction re-targets the B-plane and the
   periselene epoch (:func:`~guanghan.gnc.lunar_midcourse.solve_mcc`, flown with seeded
   thrust and pointing errors, fixed attitude, timer cut-off); at each LOI epoch the burn is solved
   on the flown state and flown (:func:`~guanghan.gnc.lunar_orbit_insertion_flight.fly_loi`).

Figures (``<group>.<quantity>_<unit>``): ``transfer.*`` (injection epoch, perigee altitude over the
equatorial radius, C3, inclination, sub-point, the launch site's angle from the plane at launch and
the arc from it to the injection, each MCC Δv
and their sum, arrival v∞, periselene altitude/inclination/epoch of the unburnt approach, the
B-plane aimed and reached, launch-to-periselene duration), ``loi.*`` (burn count, total Δv from the
mass drop, propellant, first burn's duration and ignition altitude) and per burn ``loi{k}.*``
(duration, Δv, impulsive Δv at the periselene for the same orbit energy, gravity loss, ignition
altitude, the stack mass a published duration implies), ``lunar_orbit.*`` (min/max altitude over one revolution after the
last burn, inclination to the lunar equator, Keplerian period of the mean osculating semi-major
axis).

Assumptions and limitations
    Perfect navigation; the launch vehicle's ascent is not simulated (its injection is designed);
    MCC and LOI burns are planned on the flown state with the truth model.

References
    See :mod:`guanghan.gnc.lunar_transfer_design` and :mod:`guanghan.gnc.lunar_orbit_insertion`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from guanghan.dynamics.conics import b_plane_incoming, incoming_asymptote
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.patched_flight import PatchedModels, fly_outbound
from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment import frames, lunar_dem, spice_kernels, time_scales
from guanghan.environment.geodetic import EARTH_EQUATORIAL_RADIUS, planetodetic_from_cartesian
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc import lunar_orbit_insertion as loi
from guanghan.gnc import lunar_transfer_design as ltd
from guanghan.gnc.ascent_guidance import highest_terrain_on_plane_m
from guanghan.gnc.execution_errors import dispersed, error_draws
from guanghan.gnc.lunar_midcourse import SolvedMcc, predicted_b_plane_km, solve_mcc
from guanghan.gnc.lunar_orbit_insertion_flight import engine_module, fly_loi, loi_aims
from guanghan.gnc.lunar_transfer_plan import TransferProblem
from guanghan.gnc.parking_orbit_design import inclination_deg
from guanghan.gnc.return_targeting import mcc_burn


@dataclass
class TransferResult:
    """The stack in lunar orbit after the last LOI burn (Moon-centred J2000), the flown
    trajectories, events, figures, burns by name, the design, the propellant (kg) each module
    burnt, and the B-plane points: the aim, the design, before and after (planned) each midcourse
    correction, the aim for the flown arrival's v∞ and the flown arrival (``point``, ``utc`` of the state predicted from, ``b_dot_t_km``,
    ``b_dot_r_km``)."""

    final_state: SpacecraftState
    trajectory: list[Trajectory]
    events: list[dict]
    figures: dict
    burns: dict
    design: ltd.TransferDesign
    propellant_used_kg: dict[str, float]
    b_plane: list[dict]
    plan: "TransferDesignPlan"


@dataclass(frozen=True)
class TransferDesignPlan:
    """What the ground designs before launch, kept to fly again (``--design-from``): the injection
    design, the arrival it aims at, the impulsive LOI estimate ((Δv m/s, duration s) per burn)
    whose first burn's middle sets the aimed periselene epoch, and the LOI burns as solved from the
    flown states at their ignitions and the midcourse corrections as solved from the flown states
    at their epochs (each flown again from the same state, solved again from another)."""

    design: ltd.TransferDesign
    target: ltd.ArrivalTarget
    loi_estimate: list[tuple[float, float]]
    loi_solutions: list[loi.SolvedLoi] = field(default_factory=list)
    mcc_solutions: list[SolvedMcc] = field(default_factory=list)


def _add(events: list, et: float, name: str, **details) -> None:
    events.append({"et": float(et), "event": name, "details": details})


def _estimate(problem: TransferProblem, rp: float, v_inf: float, mu: float, mass: float):
    plan = problem.plan
    return loi.impulsive_sequence(mu, rp, v_inf, [b.et for b in plan.loi], loi_aims(problem),
                                  [problem.loi_engine(k) for k in range(len(plan.loi))], mass)


def plan_design(problem: TransferProblem, models: PatchedModels, site_j2000=None):
    """The injection design, its arrival target and the impulsive LOI estimate it was made for."""
    plan = problem.plan
    mu = models.moon.central.mu
    rp = loi.moon_radius() + plan.arrival.periselene_altitude_km * 1e3
    perigee = EARTH_EQUATORIAL_RADIUS + plan.injection.perigee_altitude_km * 1e3
    geom = ltd.InjectionGeometry(plan.injection.et, perigee, plan.injection.inclination_deg, problem.mass_kg)
    ign = plan.loi[0].et

    def target(est):
        return ltd.ArrivalTarget(ign + 0.5 * est[0][1], rp, plan.arrival.inclination_deg,
                                 plan.arrival.periselene_hemisphere)

    probe = ltd.ArrivalTarget(ign, rp, plan.arrival.inclination_deg, plan.arrival.periselene_hemisphere)
    v_inf0 = min(ltd.conic_arrival_speed(geom, x, probe) for x in ltd.conic_guesses(geom, probe))
    est = _estimate(problem, rp, v_inf0, mu, problem.mass_kg)
    _check_estimate(problem, est)
    design = ltd.design_transfer(geom, target(est), models, site_j2000)
    v_inf = float(np.linalg.norm(incoming_asymptote(design.periselene, mu)))
    est2 = _estimate(problem, rp, v_inf, mu, problem.mass_kg)
    _check_estimate(problem, est2)
    if abs(est2[0][1] - est[0][1]) > 1.0:
        design = ltd.design_transfer(geom, target(est2), models, site_j2000, x_guess=design.x)
    _check_terrain(design.periselene, plan)
    return design, target(est2), est2


def _check_estimate(problem: TransferProblem, est) -> None:
    """Refuse LOI burns that even impulsively cannot fit the propellant, the 4 h limit or the time
    to the next burn (an engine too weak, or a stack too heavy, to capture)."""
    plan, mass = problem.plan, problem.mass_kg
    left = dict(problem.propellant_kg)
    for k, ((dv, d), b) in enumerate(zip(est, plan.loi, strict=True)):
        eng, module = problem.loi_engine(k), engine_module(b.engine)
        gap = plan.loi[k + 1].et - b.et if k + 1 < len(plan.loi) else math.inf
        if d > min(loi.MAX_BURN_S, gap) or d * eng.mass_flow_kg_s > left[module]:
            limit = min(loi.MAX_BURN_S, gap)
            why = (f"even an impulsive-equivalent burn lasts {d:,.0f} s (limit {limit:,.0f} s)"
                   if d <= left[module] / eng.mass_flow_kg_s else
                   f"it needs {d * eng.mass_flow_kg_s:,.0f} kg of propellant, {module} holds "
                   f"{left[module]:,.0f} kg")
            raise loi.too_weak(eng, mass, dv, why, f"loi[{k}].engine", b.engine)
        left[module] -= d * eng.mass_flow_kg_s
        mass -= d * eng.mass_flow_kg_s


def _check_terrain(peri: SpacecraftState, plan) -> None:
    """Refuse a periselene (and a final orbit) below the highest DEM terrain under the plane."""
    normal_me = frames.rotation("J2000", "MOON_ME", [peri.et])[0] @ np.cross(peri.r, peri.v)
    top = highest_terrain_on_plane_m(normal_me, lunar_dem.height_m)
    alt = plan.arrival.periselene_altitude_km * 1e3
    if alt <= top:
        raise InputError(f"target periselene {alt / 1e3:.2f} km is below the highest terrain under the "
                         f"arrival plane, {top / 1e3:.2f} km above the 1737.4 km sphere (global DEM): "
                         "raise the periselene", quantity="arrival.periselene_altitude_km",
                         value=alt / 1e3)
    last = plan.loi[-1]
    floor = last.mean_altitude_km if last.mean_altitude_km is not None else None
    if floor is not None and floor * 1e3 <= top:
        raise InputError(f"the final orbit's mean altitude {floor:.2f} km is below the highest terrain "
                         f"under the plane, {top / 1e3:.2f} km", quantity=f"loi[{len(plan.loi) - 1}]."
                         "mean_altitude_km", value=floor)


def _injection_errors(state: SpacecraftState, errors) -> SpacecraftState:
    """``state`` with seeded position (then velocity) errors, 1σ per J2000 axis."""
    rng = np.random.default_rng(np.random.SeedSequence(errors.seed))
    dr = rng.standard_normal(3) * errors.position_sigma_km * 1e3
    dv = rng.standard_normal(3) * errors.velocity_sigma_m_s
    return SpacecraftState(state.et, state.r + dr, state.v + dv, state.mass, state.frame, state.body)


def fly_transfer(problem: TransferProblem, site_j2000=None,
                 stored: TransferDesignPlan | None = None) -> TransferResult:
    """Plan (or take the ``stored`` plan) and fly ``problem`` from the injection to the end of the
    last LOI burn. A stored design is flown as designed, from the stack's current mass."""
    wall = time.perf_counter()
    plan = problem.plan
    models = problem.models()
    mu = models.moon.central.mu
    if stored is None:
        design, target, est = plan_design(problem, models, site_j2000)
    else:
        design, target, est = stored.design, stored.target, [tuple(x) for x in stored.loi_estimate]
        design = replace(design, injection=design.injection.with_mass(problem.mass_kg))
    n_mcc = len(problem.mcc_ets)
    draws = error_draws(plan.execution_errors, [f"mcc{i}" for i in range(1, n_mcc + 1)]
                        + [f"loi{k}" for k in range(1, len(plan.loi) + 1)])
    state = _injection_errors(design.injection, plan.injection_errors)
    left = dict(problem.propellant_kg)
    events, figures, burns, legs = [], {}, {}, []
    _add(events, state.et, "injection", speed_m_s=float(np.linalg.norm(state.v)),
         perigee_altitude_km=(np.linalg.norm(state.r) - EARTH_EQUATORIAL_RADIUS) / 1e3)
    pending: list[FiniteBurn] = []
    mcc_dv, mcc_solved = [], []
    b_plane = [_b_row("aim", target.et, design.b_target_km),
               _b_row("injection design", design.injection.et, design.b_reached_km)]
    for i, et in enumerate(problem.mcc_ets, start=1):
        f = fly_outbound(state, et, models, pending)
        legs += f.legs
        state = f.final_state
        again = stored.mcc_solutions[i - 1] if stored is not None and len(stored.mcc_solutions) >= i else None
        if again is not None and state.close_to(again.start):
            dv = np.asarray(again.delta_v, float)
            burn = mcc_burn(state, problem.mcc_engine, dv)
        else:
            burn, dv, _ = solve_mcc(state, problem.mcc_engine, target, models, plan.midcourse_deadband_km,
                                    plan.midcourse_deadband_s)
            if stored is not None:
                _add(events, et, f"mcc{i}_redesigned", reason="the flown state is not the one the stored "
                     "correction was solved from")
        mcc_solved.append(SolvedMcc(state, np.asarray(dv, float)))
        pending = [dispersed(burn, plan.execution_errors, draws[f"mcc{i}"])] if burn else []
        b_plane += [_b_row(f"before MCC-{i}", et, predicted_b_plane_km(state, target, models)),
                    _b_row(f"after MCC-{i} (planned)", et, predicted_b_plane_km(state, target, models, burn))]
        mcc_dv.append(float(np.linalg.norm(dv)))
        burns[f"mcc{i}"] = pending[0] if pending else None
        _add(events, et, f"mcc{i}", delta_v_m_s=mcc_dv[-1], duration_s=burn.duration_s if burn else 0.0)
    f = fly_outbound(state, plan.loi[0].et, models, pending)
    legs += f.legs
    if f.soi_entry is not None:
        _add(events, f.soi_entry.et, "soi_entry",
             distance_km=np.linalg.norm(f.soi_entry.recentered("MOON").r) / 1e3)
    state = f.final_state
    if state.body != "MOON":
        far_km = np.linalg.norm(state.recentered("MOON").r) / 1e3
        raise GuidanceFailure("earth_moon_transfer", f"the stack is still {far_km:,.0f} km from the Moon "
                              f"at the first LOI burn ({plan.loi[0].utc})")
    for b in burns.values():
        if b is not None:
            left[engine_module(plan.midcourse.engine)] -= _mass_drop(legs, b)
    arrival, _ = ltd.fly_to_periselene(state, models, state.et + 2 * 86400.0)
    figures.update(_arrival_figures(problem, design, arrival, mu, target))
    b_plane += [_b_row("aim at the flown v∞", arrival.et,            # |B| and θ depend on v∞
                       ltd.b_plane_aim(incoming_asymptote(arrival, mu), mu, target) / 1e3),
                _b_row("arrival (flown)", arrival.et, [figures["transfer.b_dot_t_km"],
                                                       figures["transfer.b_dot_r_km"]])]
    final, loi_legs, loi_figs, solved = fly_loi(problem, models, state, arrival, est, draws, left, events,
                                                 None if stored is None else stored.loi_solutions)
    legs += loi_legs
    figures.update({
        "transfer.mcc_delta_v_m_s": float(sum(mcc_dv)),
        **{f"transfer.mcc{i}_delta_v_m_s": d for i, d in enumerate(mcc_dv, start=1)},
        **_injection_figures(legs[0].trajectory, design.site_offset_deg, design.site_downrange_deg),
        **loi_figs, **lunar_orbit_figures(final, models),
        "transfer.wall_time_s": time.perf_counter() - wall,
    })
    used = {m: problem.propellant_kg[m] - left[m] for m in left}
    events.sort(key=lambda e: e["et"])
    return TransferResult(final, [leg.trajectory for leg in legs], events, figures, burns, design, used,
                          b_plane, TransferDesignPlan(design, target, [tuple(x) for x in est], solved,
                                                           mcc_solved))


def _b_row(point: str, et: float, b_km) -> dict:
    return {"point": point, "utc": time_scales.et_to_utc(et), "b_dot_t_km": float(b_km[0]),
            "b_dot_r_km": float(b_km[1])}


def _mass_drop(legs, burn: FiniteBurn) -> float:
    """Propellant (kg) burnt by ``burn``, from the mass along the leg that holds it."""
    for leg in legs:
        t = leg.trajectory
        if t.start_et <= burn.start_et and burn.end_et <= t.end_et:
            m0, m1 = t.states([burn.start_et, burn.end_et])[:, 6]
            return float(m0 - m1)
    raise GuidanceFailure("earth_moon_transfer", f"the burn at ET {burn.start_et:.0f} s spans two legs")


def _arrival_figures(problem, design, arrival: SpacecraftState, mu: float, target) -> dict:
    launch = time_scales.utc_to_et(problem.plan.injection.launch_utc)
    b = b_plane_incoming(arrival, mu, target.pole) / 1e3
    return {"transfer.arrival_periselene_utc": arrival.utc,
            "transfer.arrival_periselene_altitude_km": (np.linalg.norm(arrival.r) - loi.moon_radius()) / 1e3,
            "transfer.arrival_inclination_deg": inclination_deg(arrival),
            "transfer.arrival_v_inf_m_s": float(np.linalg.norm(incoming_asymptote(arrival, mu))),
            "transfer.b_dot_t_km": float(b[0]), "transfer.b_dot_r_km": float(b[1]),
            "transfer.aim_b_dot_t_km": float(design.b_target_km[0]),
            "transfer.aim_b_dot_r_km": float(design.b_target_km[1]),
            "transfer.duration_h": (arrival.et - launch) / 3600.0}


def _injection_figures(first: Trajectory, site_offset_deg: float | None, site_downrange_deg) -> dict:
    """Figures of the flown injection state (the first state of the flight ``first``)."""
    y = first.y[0]
    mu = spice_kernels.gm("EARTH")
    rot = frames.rotation("J2000", "ITRF93", [first.start_et])[0]
    lat, lon, _ = planetodetic_from_cartesian((rot @ y[:3])[None, :])
    h = rot @ np.cross(y[:3], y[3:6])
    out = {"transfer.injection_utc": time_scales.et_to_utc(first.start_et),
           "transfer.injection_perigee_km": (np.linalg.norm(y[:3]) - EARTH_EQUATORIAL_RADIUS) / 1e3,
           "transfer.injection_c3_km2_s2": float(y[3:6] @ y[3:6] - 2.0 * mu / np.linalg.norm(y[:3])) / 1e6,
           "transfer.injection_speed_m_s": float(np.linalg.norm(y[3:6])),
           "transfer.injection_inclination_deg": math.degrees(math.acos(h[2] / np.linalg.norm(h))),
           "transfer.injection_lat_deg": float(np.degrees(lat[0])),
           "transfer.injection_lon_deg": float(np.degrees(lon[0])),
           "transfer.injection_mass_kg": float(y[6])}
    if site_offset_deg is not None:
        out["transfer.launch_site_plane_offset_deg"] = site_offset_deg
        out["transfer.launch_site_downrange_deg"] = site_downrange_deg
    apogee = _apogee_km(y, mu)
    if math.isfinite(apogee):                   # an escape orbit has none
        out["transfer.injection_apogee_km"] = apogee
    return out


def _apogee_km(y: np.ndarray, mu: float) -> float:
    """Osculating two-body apogee altitude (km over the equatorial radius) of an Earth-centred
    state; inf for an escape orbit."""
    rn = float(np.linalg.norm(y[:3]))
    a = 1.0 / (2.0 / rn - float(y[3:6] @ y[3:6]) / mu)
    if a <= 0.0:
        return math.inf
    e = float(np.linalg.norm(((y[3:6] @ y[3:6] - mu / rn) * y[:3] - (y[:3] @ y[3:6]) * y[3:6]) / mu))
    return (a * (1.0 + e) - EARTH_EQUATORIAL_RADIUS) / 1e3


def lunar_orbit_figures(state: SpacecraftState, models) -> dict:
    """Min/max altitude (km over the mean sphere) over one revolution of the coast from ``state``,
    inclination to the lunar equator (deg) and the Keplerian period (h) of the mean osculating a."""
    mu = models.moon.central.mu
    a0 = 1.0 / (2.0 / np.linalg.norm(state.r) - state.v @ state.v / mu)
    period = 2.0 * math.pi * math.sqrt(a0 ** 3 / mu)
    traj = propagate(state, state.et + period, models.moon, models.tolerances).trajectory
    _, ys = traj.sample(min(60.0, period / 200.0))
    rn = np.linalg.norm(ys[:, :3], axis=1)
    a = 1.0 / (2.0 / rn - np.einsum("ij,ij->i", ys[:, 3:6], ys[:, 3:6]) / mu)
    return {"lunar_orbit.periapsis_km": float(rn.min() - loi.moon_radius()) / 1e3,
            "lunar_orbit.apoapsis_km": float(rn.max() - loi.moon_radius()) / 1e3,
            "lunar_orbit.inclination_deg": inclination_deg(state),
            "lunar_orbit.period_h": 2.0 * math.pi * math.sqrt(float(a.mean()) ** 3 / mu) / 3600.0}
