"""Trans-Earth leg: the return of :func:`~guanghan.gnc.trans_earth_return.fly_return` from a lunar
parking orbit to the Earth entry interface, with the scenario's engines and the modules' masses.

The start is the designed parking orbit (``[phases.parking_orbit]``), given elements
(``[phases.initial_orbit]`` at ``start_utc``), or the previous leg's final state (Moon-centred,
before TEI-1). The stack's mass is the sum of its modules' current masses (flowing from the previous
legs, or ``start_propellant_kg`` for a leg whose predecessors are not simulated); the returner's is
the sum of its own modules. The leg ends with the returner at the entry interface (Earth-centred
J2000). Figures keep the keys ``tei.delta_v_m_s`` and ``return.mcc_delta_v_m_s``; the others go
under the phase name (``trans_earth.tei2_duration_s``). A targeting failure is logged as
``guidance_failure`` and ends the mission there.

The design (:mod:`guanghan.mission.mission_design`) is the designed parking orbit (when the phase
designs it) and the TEI plan; given a stored one, the leg starts from its parking orbit (with the
stack's current mass) and flies its TEI plan, re-targeting TEI-2 from the flown orbit.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import time_scales
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc.parking_orbit_design import design_parking_orbit
from guanghan.gnc.return_plan import ReturnProblem
from guanghan.gnc.trans_earth_return import TeiPlan, fly_return
from guanghan.mission.event_log import EventLog
from guanghan.mission.initial_conditions import state_from_orbit
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.mission_design import decode, encode
from guanghan.mission.trajectory_table import SCHEMA, burn_record, leg_table

#: figures kept under their own group (the mission's headline keys)
_TOP_LEVEL = ("tei.delta_v_m_s", "return.mcc_delta_v_m_s")


def _start(phase, ctx: LegContext, mass: float) -> SpacecraftState | None:
    """The start state, or None when it is to be designed."""
    if phase.parking_orbit is None and phase.initial_orbit is None:
        previous = ctx.previous
        tei1_et = time_scales.utc_to_et(phase.tei_1.utc)
        if previous is None or previous.body != "MOON" or previous.et >= tei1_et:
            got = "nothing" if previous is None else f"a {previous.body}-centred state at {previous.utc}"
            raise ctx.error(f"needs [phases.parking_orbit] or [phases.initial_orbit], or a previous "
                            f"phase ending about the Moon before TEI-1; the previous phase gives {got}",
                            "parking_orbit")
        return previous.to_frame("J2000").with_mass(mass)
    if phase.initial_orbit is not None:
        return state_from_orbit(phase.initial_orbit, time_scales.utc_to_et(phase.start_utc), mass)
    return None


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Plan and fly the return of ``phase``; the result ends at the entry interface."""
    scenario = ctx.scenario
    stack_kg = ctx.vehicle_mass_kg(phase.vehicle)
    returner_kg = ctx.vehicle_mass_kg(phase.separation.returner_vehicle)
    site = scenario.sites[phase.site]
    problem = ReturnProblem.resolve(phase, ctx.engines(phase.vehicle), stack_kg - returner_kg,
                                    returner_kg, site.lat_deg, site.lon_deg)
    start = _start(phase, ctx, stack_kg)
    stored = ctx.design or {}
    log = EventLog()
    try:
        if start is None and stored.get("parking_orbit") is not None:
            start = decode(SpacecraftState, stored["parking_orbit"]).with_mass(stack_kg)
        elif start is None:
            p = phase.parking_orbit
            try:
                start = design_parking_orbit(problem, altitude_km=p.altitude_km,
                                             inclination_deg=p.inclination_deg, lead_s=p.lead_s)
            except InputError as exc:
                raise ctx.scenario_error(exc, "parking_orbit") from None
        designed_start = start if phase.parking_orbit is not None else None
        plan = decode(TeiPlan, stored["tei_plan"]) if stored.get("tei_plan") else None
        try:
            res = fly_return(problem, start, plan)
        except InputError as exc:
            raise ctx.scenario_error(exc, "initial_orbit" if exc.quantity == "start" else "") from None
    except GuidanceFailure as exc:
        et = start.et if start is not None else time_scales.utc_to_et(phase.tei_1.utc)
        log.add(et, phase.name, "guidance_failure", {"phase": exc.phase, "reason": exc.reason})
        final = start or SpacecraftState(et, np.zeros(3), np.zeros(3), stack_kg, "J2000", "MOON")
        return PhaseResult(phase.name, final, log, {}, SCHEMA.empty_table(), aborted=exc.reason,
                           leg_type=phase.type)
    for e in res.events:
        log.add(e["et"], phase.name, e["event"], e.get("details", {}))
    summary = _summary(phase.name, res.figures)
    summary[f"{phase.name}.start_utc"] = time_scales.et_to_utc(start.et)
    table = pa.concat_tables([leg_table(phase.name, t, phase.output_step_s) for t in res.trajectory])
    masses = _module_masses(phase, ctx, res.figures["return.final_orbiter_mass_kg"])
    short = _propellant_shortfall(phase, ctx, masses)
    final = SpacecraftState(res.entry_et, np.asarray(res.r_entry_j2000), np.asarray(res.v_entry_j2000),
                            returner_kg, "J2000", "EARTH")
    if short is not None:
        log.add(start.et, phase.name, "propellant_exhausted", short)       # logged at the start: TEI-1
        reason = (f"the return burnt {short['burnt_kg']:.1f} kg of {short['module']}'s propellant, which "
                  f"held {short['held_kg']:.1f} kg at TEI-1 (modules.{short['module']}.dry_mass_kg + "
                  f"propellant_kg, less the earlier legs' burns): {short['short_kg']:.1f} kg short")
        return PhaseResult(phase.name, final, log, summary, table, aborted=reason, leg_type=phase.type)
    orbiter = pa.concat_tables([leg_table(f"{phase.name}_orbiter", t, phase.output_step_s)
                                for t in res.orbiter_trajectory])
    fm = phase.force_models
    meta = {"force_model": (f"Moon GRGM1200A {fm.lunar_degree}x{fm.lunar_degree} + Earth + Sun inside "
                            f"{fm.soi_radius_km:.0f} km of the Moon; Earth EGM96 {fm.earth_degree}x"
                            f"{fm.earth_degree} + Moon + Sun outside"),
            "burns": {k: burn_record(b) for k, b in res.burns.items() if b is not None}}
    design = {"parking_orbit": encode(designed_start), "tei_plan": encode(res.plan)}
    return PhaseResult(phase.name, final, log, summary, table, meta, series={"orbiter": orbiter},
                       module_masses=masses, leg_type=phase.type, design=design)


def _module_masses(phase, ctx: LegContext, final_orbiter_kg: float) -> dict[str, float]:
    """Module masses after the return: the propellant burnt comes out of the module whose engines
    flew it (all burns of the return are on the orbiter's engines)."""
    modules = ctx.scenario.vehicles[phase.vehicle].modules
    returner = set(ctx.scenario.vehicles[phase.separation.returner_vehicle].modules)
    burner = phase.tei_1.engine.split(".", 1)[0]
    others = [m for m in modules if m not in returner]
    out = {m: ctx.masses[m] for m in others}
    out[burner] -= sum(out.values()) - final_orbiter_kg
    return out


def _propellant_shortfall(phase, ctx: LegContext, masses: dict[str, float]) -> dict | None:
    """None if the burning module kept at least its dry mass, else the numbers of the shortfall (kg;
    a 1 g slack for rounding). The return's burns are solved for their aims, not limited by the
    propellant aboard, so a return that needs more than the module holds is caught here."""
    module = phase.tei_1.engine.split(".", 1)[0]
    dry = ctx.scenario.modules[module].dry_mass_kg
    if masses[module] >= dry - 1e-3:
        return None
    held = ctx.masses[module] - dry
    return {"module": module, "held_kg": held, "burnt_kg": ctx.masses[module] - masses[module],
            "short_kg": dry - masses[module]}


def _summary(name: str, figures: dict) -> dict:
    """The headline keys as they are; ``group.quantity`` → ``<phase>.group_quantity``."""
    return {key if key in _TOP_LEVEL else f"{name}.{key.replace('.', '_')}": value
            for key, value in figures.items()}
