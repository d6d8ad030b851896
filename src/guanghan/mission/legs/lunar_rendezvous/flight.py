"""Lunar-rendezvous leg: phasing, close-range approach and capture, sample transfer, undocking and
the ascender's disposal.

From the ascent's insertion (the previous leg's final state: the chaser, ``vehicle``) and the
target vehicle's last state (handed on by an earlier leg and propagated to the insertion on the
scenario's lunar force model) — or, run alone, from ``chaser_orbit`` and ``target_orbit`` at
``start_utc`` — the phasing burns are designed on that force model to the
hand-over point (:func:`guanghan.gnc.rendezvous_phasing.design_phasing`: ground-planned on ground
navigation) and flown with execution errors and a re-plan of the final transfer
(:func:`guanghan.gnc.phasing_flight.fly_phasing`). From the hand-over reached the ``active``
vehicle flies the autonomous approach with relative navigation to capture
(:func:`guanghan.gnc.proximity_operations.fly_proximity`).
The docked stack is propagated to the undocking; the chaser's cargo (the samples) moves to
``cargo_to_module`` after ``transfer_duration_min``; after the undocking the chaser is deorbited
and its impact found (:func:`guanghan.gnc.lunar_impact.design_deorbit`).

Assumptions and limitations
    * The phasing burns are flown with ``phasing_errors`` and the ground re-plans the final
      transfer from the flown orbit (:func:`guanghan.gnc.phasing_flight.fly_phasing`, perfect
      orbit determination); the close-range approach starts from the hand-over state reached and
      has the thrusters' errors and the filter in the loop.
    * The close-range truth is two-body (see :mod:`guanghan.gnc.proximity_operations`); its
      end state is re-attached to the target's propagated orbit at capture.
    * The stack after the undocking is the target vehicle; its state is the leg's final state
      and is handed on. The chaser's disposal is flown on the full force model.

The design (:mod:`guanghan.mission.mission_design`) is the phasing plan, the re-planned final
pair with what it was solved from, and the deorbit epoch; given a stored one, the leg flies its
phasing burns, then the stored final pair if the flight so far is the one it was solved for (else
the ground re-plans it, aimed at the hand-over point of the target's orbit as flown; event
``final_pair_redesigned``), and burns at its deorbit epoch.
"""

from __future__ import annotations

import numpy as np

from dataclasses import replace

from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import time_scales
from guanghan.errors import GuidanceFailure, InputError, ScenarioError
from guanghan.gnc.lunar_impact import design_deorbit, fly_deorbit
from guanghan.gnc.phasing_flight import SolvedFinalPair, fly_phasing
from guanghan.gnc.proximity_operations import fly_proximity
from guanghan.gnc.phasing_two_body import handover_aim
from guanghan.gnc.rendezvous_phasing import PhasingBurn, PhasingResult, design_phasing
from guanghan.mission.event_log import EventLog
from guanghan.mission.force_model_builder import lunar_force_model
from guanghan.mission.initial_conditions import state_from_orbit
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.legs.lunar_rendezvous.packing import pack
from guanghan.mission.mission_design import decode, encode
from guanghan.mission.trajectory_table import SCHEMA

TOLERANCES = Tolerances(rtol=1e-10, atol_m=1e-2, max_step_s=600.0)


class RendezvousSetup:
    """Chaser at the insertion, target propagated to it, engine, masses and budget of the leg."""

    def __init__(self, phase, ctx: LegContext):
        prev = ctx.previous
        et0 = time_scales.utc_to_et(phase.start_utc) if phase.start_utc is not None else None
        if phase.chaser_orbit is not None:                  # run alone: the chaser from the scenario
            prev = state_from_orbit(phase.chaser_orbit, et0, ctx.vehicle_mass_kg(phase.vehicle))
        if prev is None or prev.body != "MOON":
            raise ctx.error("starts from the ascent's insertion in lunar orbit (or give start_utc, "
                            "chaser_orbit and target_orbit)", "type", phase.type)
        self.chaser0 = prev.to_frame("J2000")
        got = ctx.vehicles.get(phase.target_vehicle)
        if phase.target_orbit is not None:
            got = state_from_orbit(phase.target_orbit, et0, ctx.vehicle_mass_kg(phase.target_vehicle))
        if got is None:
            raise ctx.error(f"no earlier leg left vehicle {phase.target_vehicle!r} in flight (known: "
                            f"{sorted(ctx.vehicles)}) and no target_orbit is given", "target_vehicle",
                            phase.target_vehicle)
        if got.et > self.chaser0.et:
            raise ctx.error(f"the target's state ({got.utc}) is later than the chaser's ({self.chaser0.utc})",
                            "target_orbit", None)
        self.model_c = lunar_force_model(ctx.scenario, phase.vehicle)
        self.model_t = lunar_force_model(ctx.scenario, phase.target_vehicle)
        got = got.to_frame("J2000")
        x = got.vector if got.et == self.chaser0.et else \
            propagate(got, self.chaser0.et, self.model_t, TOLERANCES).trajectory.final_state
        self.target_at_start = SpacecraftState(self.chaser0.et, x[:3], x[3:6],
                                               ctx.vehicle_mass_kg(phase.target_vehicle), "J2000", "MOON")
        self.module, _ = phase.phasing_engine.split(".", 1)
        self.engine = ctx.engines(phase.vehicle)[phase.phasing_engine]
        self.undock_et = time_scales.utc_to_et(phase.undocking_utc)
        self.chaser_mass = ctx.vehicle_mass_kg(phase.vehicle)
        self.target_mass = ctx.vehicle_mass_kg(phase.target_vehicle)
        self.budget_kg = ctx.masses[self.module] - ctx.scenario.modules[self.module].dry_mass_kg - \
            ctx.cargo_kg.get(self.module, 0.0)
        self.cargo_kg = sum(ctx.cargo_kg.get(m, 0.0) for m in ctx.scenario.vehicles[phase.vehicle].modules)


def fly_close_range(phase, s: RendezvousSetup, design):
    """The close-range approach from the hand-over, by the active vehicle."""
    t_arr = design.arrival_et
    xc = design.trajectory.states([t_arr])[0, :6]
    xt = design.target_trajectory.states([t_arr])[0, :6]
    chaser = SpacecraftState(t_arr, xc[:3], xc[3:], s.chaser_mass - design.propellant_kg, "J2000", "MOON")
    target = SpacecraftState(t_arr, xt[:3], xt[3:], s.target_mass, "J2000", "MOON")
    active, passive = (target, chaser) if phase.active == "target" else (chaser, target)
    res = fly_proximity(active, passive, phase.proximity, phase.thrusters, phase.sensor, phase.navigation,
                        np.random.default_rng(phase.seed))
    return res, active, passive


_PLAN_FIELDS = ("burns", "finite_burns", "arrival_et", "arrival_relative", "total_delta_v_m_s",
                "propellant_kg", "figures", "final_pair", "phasing_burn_count")


#: a stored phasing plan is redesigned when the target, as flown, lies farther than this (m) from
#: where the plan expected it at the hand-over (ASSUMPTION: the final pair's re-plan absorbs a few km;
#: an orbiter tens of km ahead or behind, e.g. after another sample's transfer, needs new phasing)
_REDESIGN_OFFSET_M = 5e3


def _stored_phasing(data: dict, phase, s: RendezvousSetup) -> tuple[PhasingResult | None, float]:
    """A stored phasing plan, aimed at the hand-over point of the target's orbit as flown (the
    target propagated as :func:`~guanghan.gnc.rendezvous_phasing.design_phasing` does), and how far
    (m) the flown target is from where the plan expected it at the hand-over; None instead of the
    plan when that exceeds :data:`_REDESIGN_OFFSET_M` (the ground designs the phasing again)."""
    t_arr = float(data["arrival_et"])
    tgt = propagate(s.target_at_start, t_arr + 1.0, replace(s.model_c, burns=[]), TOLERANCES).trajectory
    flown = tgt.states([t_arr])[0, :6]
    expected = data.get("target_arrival_r_m")               # absent from older design files
    offset = float(np.linalg.norm(flown[:3] - np.asarray(expected))) if expected is not None else 0.0
    if offset > _REDESIGN_OFFSET_M:
        return None, offset
    aim_rel, aim_rv = handover_aim(phase.phasing, flown, s.model_c.central.mu)
    return PhasingResult([decode(PhasingBurn, b) for b in data["burns"]],
                         [decode(FiniteBurn, b) for b in data["finite_burns"]], t_arr,
                         np.asarray(data["arrival_relative"]), aim_rel, data["total_delta_v_m_s"],
                         data["propellant_kg"], None, tgt, dict(data["figures"]),
                         [(float(t), np.asarray(dv)) for t, dv in data["final_pair"]], aim_rv,
                         data["phasing_burn_count"]), offset


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Phasing, approach, capture, transfer, undocking, disposal; see the module docstring."""
    s = RendezvousSetup(phase, ctx)
    log = EventLog()
    stored = ctx.design or {}
    redesigned = False
    try:
        design = None
        if stored.get("phasing"):
            design, offset = _stored_phasing(stored["phasing"], phase, s)
            redesigned = design is None
            if redesigned:
                log.add(s.chaser0.et, phase.name, "phasing_redesigned", {
                    "target_offset_km": offset / 1e3, "limit_km": _REDESIGN_OFFSET_M / 1e3})
        if design is None:
            design = design_phasing(s.chaser0.with_mass(s.chaser_mass), s.target_at_start, s.model_c,
                                    s.engine, phase.phasing, TOLERANCES)
    except InputError as exc:
        raise ctx.scenario_error(exc, "phasing") from None
    except GuidanceFailure as exc:
        return PhaseResult(phase.name, s.chaser0, log, {}, SCHEMA.empty_table(),
                           aborted=f"phasing: {exc.reason}", leg_type=phase.type)
    plan = {"phasing": {k: encode(getattr(design, k)) for k in _PLAN_FIELDS}, "deorbit_burn_et": None}
    plan["phasing"]["target_arrival_r_m"] = \
        design.target_trajectory.states([design.arrival_et])[0, :3].tolist()
    if design.propellant_kg >= s.budget_kg:
        raise ScenarioError(f"the phasing burns need {design.propellant_kg:.1f} kg (Δv "
                            f"{design.total_delta_v_m_s:.1f} m/s) of the {s.budget_kg:.1f} kg left in module "
                            f"{s.module!r} after the ascent", file=ctx.file,
                            field=f"modules.{s.module}.propellant_kg",
                            value=ctx.scenario.modules[s.module].propellant_kg)
    pair = stored.get("final_pair_solution") if not redesigned else None
    pair = decode(SolvedFinalPair, pair) if pair else None
    design = fly_phasing(s.chaser0.with_mass(s.chaser_mass), s.model_c, s.engine, design, phase.phasing_errors,
                         TOLERANCES, stored=pair)
    if pair is not None and not design.figures.get("replan_stored"):
        log.add(design.final_pair[0][0], phase.name, "final_pair_redesigned", {
            "reason": "the chaser, its phasing burns as flown or the aim are not those the stored pair "
                      "was solved for"})
    plan["final_pair_solution"] = encode(design.final_pair_solution)
    if design.propellant_kg >= s.budget_kg:
        return PhaseResult(phase.name, s.chaser0, log, {}, SCHEMA.empty_table(), leg_type=phase.type,
                           aborted=f"phasing: the flown burns used {design.propellant_kg:.1f} kg, more than "
                                   f"the {s.budget_kg:.1f} kg left in module {s.module!r}")
    try:
        prox, _, passive = fly_close_range(phase, s, design)
    except InputError as exc:
        raise ctx.scenario_error(exc, "proximity") from None
    if not prox.success:
        return pack(phase, ctx, s, log, design, prox, None, None, aborted=prox.failure_reason)
    capture_et = design.arrival_et + float(prox.t_s[-1])
    if capture_et >= s.undock_et:
        raise ctx.error(f"comes before the capture at {time_scales.et_to_utc(capture_et)}", "undocking_utc",
                        phase.undocking_utc)
    # the docked stack: the passive vehicle's orbit (it did not manoeuvre) from the hand-over to
    # the capture, then the stack to the undocking
    stack0 = propagate(passive.with_mass(s.target_mass + s.chaser_mass - design.propellant_kg), capture_et,
                       s.model_t, TOLERANCES).trajectory
    stack = propagate(SpacecraftState.from_vector(capture_et, stack0.final_state), s.undock_et, s.model_t,
                      TOLERANCES).trajectory
    disposal = None
    if phase.disposal is not None:
        d = phase.disposal
        x = stack.final_state
        left = s.chaser_mass - design.propellant_kg - s.cargo_kg
        chaser_after = SpacecraftState(s.undock_et, x[:3], x[3:6], left, "J2000", "MOON")
        earliest = time_scales.utc_to_et(d.earliest_burn_utc)
        if earliest < s.undock_et:
            raise ctx.error(f"comes before the undocking ({phase.undocking_utc})", "disposal.earliest_burn_utc",
                            d.earliest_burn_utc)
        try:
            if stored.get("deorbit_burn_et") is not None and not redesigned:
                try:
                    disposal = fly_deorbit(chaser_after, s.model_c, s.engine, d.plan,
                                           stored["deorbit_burn_et"], TOLERANCES)
                except GuidanceFailure as exc:    # the stored epoch misses the ground from this orbit
                    log.add(chaser_after.et, phase.name, "deorbit_redesigned", {"reason": exc.reason})
            if disposal is None:    # designed (again after new phasing: the stored epoch was for another)
                disposal = design_deorbit(chaser_after, s.model_c, s.engine, d.plan, d.target_lat_deg,
                                          d.target_lon_deg, earliest_et=earliest, tolerances=TOLERANCES)
        except InputError as exc:
            raise ctx.scenario_error(exc, "disposal") from None
        except GuidanceFailure as exc:
            raise ctx.error(exc.reason, "disposal.plan.delta_v_m_s", d.plan.delta_v_m_s) from None
        need = s.engine.mass_flow_kg_s * disposal.burn.duration_s
        disposal.figures["propellant_kg"] = need
        left_kg = s.budget_kg - design.propellant_kg
        if need > left_kg:
            raise ScenarioError(f"the {d.plan.delta_v_m_s} m/s deorbit burn needs {need:.1f} kg; module "
                                f"{s.module!r} has {left_kg:.1f} kg left after the ascent and the phasing "
                                f"({design.propellant_kg:.1f} kg)", file=ctx.file,
                                field=f"modules.{s.module}.propellant_kg",
                                value=ctx.scenario.modules[s.module].propellant_kg)
        plan["deorbit_burn_et"] = disposal.figures["burn_et"]
    result = pack(phase, ctx, s, log, design, prox, stack, disposal, passive_traj=stack0)
    result.design = plan
    return result
