"""Surface-operations leg: from the touchdown to the lift-off, sampling on a timeline bounded by
sunlight, the lander's temperature and the links, and the hardware left behind.

The stay starts at the previous leg's touchdown (its final state, on the Moon) or, when the leg
runs alone, at ``touchdown_utc`` on ``site``; it ends at ``liftoff_utc``. Over the stay the leg
computes (:mod:`.surroundings`) the Sun and Earth above the DEM horizon
(:mod:`guanghan.environment.terrain_horizon`), the regolith surface temperature (Hayne et al.
2017), the lander's thermal model and the operating windows; the direct-to-Earth windows with the
ground network and, with a relay, the relay's orbit and the site–relay–station windows, each with
its data volume from the link budgets. It drills (:func:`~guanghan.dynamics.regolith_drilling.drill_hole`)
and plans scoop cycles until the target sample mass
(:func:`~guanghan.dynamics.regolith_scooping.fill_container`), then orders checkout, drilling, core
packaging, scooping, sealing, flag deployment and ascent preparation with the CP-SAT scheduler
(:func:`~guanghan.gnc.surface_timeline.schedule`): steps needing ground confirmation start no sooner
than the round-trip light time plus the ground's reaction after the previous step, inside a link
window; every step inside an operating window; the ascent preparation ends ``liftoff_margin_h``
before the lift-off. The deployed items are then integrated over ``deployed_span_days``.

The samples are added to ``sample_module``'s mass; the final state is the lander at rest on the
rotating Moon at the lift-off epoch (Moon-centred J2000).

Assumptions and limitations
    * Surface operations use no propellant; the lander's power is not modelled beyond the Sun
      elevation limit.
    * A timeline that cannot fit (too little window, a confirmation that fits no link window) ends
      the mission (``aborted``) with the scheduler's reason and the numbers.
    * The samples are planned on the drill's result and the scoop's seeded fill; the plan is flown
      as scheduled (no re-planning after a failed cycle).
    * The timeline is the leg's design: a run given a stored design (``--design-from``) takes its
      timeline when the tasks and windows are the ones it was solved for (their SHA-256), and
      solves again otherwise (event ``timeline_rescheduled``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import numpy as np

from guanghan.dynamics import panel_thermal
from guanghan.dynamics.regolith_drilling import drill_hole
from guanghan.dynamics.regolith_scooping import fill_container
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import surface_illumination as illum
from guanghan.environment import time_scales
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.terrain_horizon import horizon_profile
from guanghan.errors import InputError
from guanghan.gnc.surface_timeline import ScheduledTask, Task, Timeline, TimelineInfeasible, schedule
from guanghan.mission.event_log import EventLog
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.mission_design import encode
from guanghan.mission.legs.surface_operations import surroundings as sr
from guanghan.mission.legs.surface_operations.packing import pack
from guanghan.mission.trajectory_table import SCHEMA


class _Stay:
    """Where and when: the site (from the touchdown state, or the scenario's), the stay's bounds."""

    def __init__(self, phase, ctx: LegContext):
        prev = ctx.previous
        self.t1 = time_scales.utc_to_et(phase.liftoff_utc)
        if prev is not None and prev.body == "MOON" and not phase.touchdown_utc:
            me = prev.to_frame("MOON_ME")
            r = float(np.linalg.norm(me.r))
            if r - MOON_MEAN_RADIUS > 30_000.0 or np.linalg.norm(me.v) > 1.0:
                raise ctx.error(f"starts on the surface; the previous phase ends {(r - MOON_MEAN_RADIUS) / 1e3:.1f}"
                                f" km above the Moon at {np.linalg.norm(me.v):.1f} m/s (put it after a landing, "
                                "or give touchdown_utc)", "type", phase.type)
            self.t0 = prev.et
            lat, lon = math.degrees(math.asin(me.r[2] / r)), math.degrees(math.atan2(me.r[1], me.r[0]))
            self.site = illum.SurfaceSite(name=phase.site, lat_deg=lat, lon_deg=lon, height_m=r - MOON_MEAN_RADIUS)
        else:
            if phase.touchdown_utc is None:
                raise ctx.error("the previous phase does not end on the Moon: give touchdown_utc",
                                "touchdown_utc", None)
            self.t0 = time_scales.utc_to_et(phase.touchdown_utc)
            self.site = illum.SurfaceSite.from_site(ctx.scenario.sites[phase.site], phase.site)
        if self.t1 <= self.t0:
            raise ctx.error(f"must come after the touchdown ({time_scales.et_to_utc(self.t0)})",
                            "liftoff_utc", phase.liftoff_utc)
        relay = phase.comms.relay
        if relay is not None and relay.epoch_et > self.t0:
            raise ctx.error(f"the relay's elements must be given at or before the touchdown "
                            f"({time_scales.et_to_utc(self.t0)})", "comms.relay.epoch_utc", relay.epoch_utc)
        self.mass_kg = ctx.vehicle_mass_kg(phase.vehicle)


def _tasks(phase, drill_s: float, n_scoops: int) -> list[Task]:
    """The timeline's steps in their order of dependence (see the module docstring)."""
    ops, conf = phase.operations, set(phase.operations.confirm)
    scoop_s = phase.sampling.scoop.cycle_duration_s
    tasks = [Task("checkout", ops.checkout_h * 3600.0, kind="checkout", resource="sampler"),
             Task("drill", ops.drill_setup_h * 3600.0 + drill_s, ("checkout",), "drill" in conf,
                  resource="sampler", kind="drill"),
             Task("core_packaging", ops.core_packaging_h * 3600.0, ("drill",), "core_packaging" in conf,
                  resource="sampler", kind="pack")]
    last = "core_packaging"
    for k in range(1, n_scoops + 1):
        tasks.append(Task(f"scoop_{k}", scoop_s, (last,), "scoop" in conf, resource="sampler", kind="scoop"))
        last = f"scoop_{k}"
    tasks += [Task("sealing", ops.sealing_h * 3600.0, (last,), "sealing" in conf, resource="sampler",
                   kind="pack"),
              Task("flag", ops.flag_deployment_h * 3600.0, ("sealing",), "flag" in conf, resource="flag",
                   kind="flag"),
              Task("ascent_preparation", ops.ascent_preparation_h * 3600.0, ("sealing", "flag"),
                   "ascent_preparation" in conf, resource="sampler", kind="ascent_prep")]
    return tasks


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Stay on the surface from the touchdown to the lift-off; see the module docstring."""
    stay = _Stay(phase, ctx)
    name, log = phase.name, EventLog()
    horizon = horizon_profile(stay.site.lat_deg, stay.site.lon_deg)
    cond = sr.conditions(phase, stay.site, horizon, stay.t0, stay.t1)
    links = [sr.direct_links(phase, stay.site, horizon, stay.t0, stay.t1)]
    if phase.comms.relay is not None:
        try:
            links.append(sr.relay_links(phase, stay.site, horizon, stay.t0, stay.t1))
        except sr.RelayBelowTerrain as exc:
            raise ctx.error(str(exc), "comms.relay.periapsis_altitude_m",
                            phase.comms.relay.periapsis_altitude_m) from None
    usable = [ls for ls in links if ls.kind == "relay" or phase.comms.direct_link is not None]
    rng = np.random.default_rng(phase.sampling.seed)
    smp = phase.sampling
    hole = drill_hole(smp.drill, rng)
    try:
        fill = fill_container(smp.container, hole.core_mass_kg, smp.scoop, smp.target_sample_mass_g / 1e3, rng)
    except InputError as exc:
        raise ctx.scenario_error(exc, "sampling") from None
    windows = sorted(w for ls in usable for w in ls.windows)
    rtt = max(ls.round_trip_s for ls in usable)
    deadline = stay.t1 - phase.operations.liftoff_margin_h * 3600.0
    tasks = _tasks(phase, hole.duration_s, fill.cycles)
    timeline, reason = None, None
    inputs = dict(start_s=0.0, deadline_s=float(deadline - stay.t0),
                  link_windows=[(float(a - stay.t0), float(b - stay.t0)) for a, b in windows],
                  operating_windows=[(float(a - stay.t0), float(b - stay.t0)) for a, b in cond.operating_windows],
                  round_trip_light_time_s=float(rtt), ground_reaction_s=phase.operations.ground_reaction_s,
                  time_limit_s=phase.operations.solver_time_limit_s)
    digest = _inputs_digest(tasks, inputs)
    try:
        if ctx.design is not None and ctx.design.get("timeline_inputs_sha256") == digest:
            timeline = _stored_timeline(ctx.design["timeline"])
        else:
            if ctx.design is not None:
                log.add(stay.t0, name, "timeline_rescheduled", {"reason": "the tasks or windows are not the "
                                                                "ones the stored timeline was solved for"})
            timeline = schedule(tasks, **inputs)
    except TimelineInfeasible as exc:
        reason = f"the surface timeline does not fit: {exc}"
        log.add(stay.t0, name, "timeline_infeasible", {"reason": str(exc)})
    except InputError as exc:
        raise ctx.scenario_error(exc, "operations") from None
    final = SpacecraftState(stay.t1, stay.site.position_m, np.zeros(3), stay.mass_kg + fill.total_kg,
                            "MOON_ME", "MOON").to_frame("J2000")
    if timeline is None:
        return PhaseResult(name, final, log, {}, SCHEMA.empty_table(), aborted=reason, leg_type=phase.type)
    deploy_et = stay.t0 + timeline.task("flag").end_s
    span_s = phase.deployed_span_days * 86_400.0
    items = [(item, panel_thermal.simulate_panel(item, stay.site, deploy_et, deploy_et + span_s,
                                                 step_s=phase.conditions_step_s, horizon=horizon))
             for item in phase.deployed]
    res = pack(phase, ctx, stay, log, cond, links, hole, fill, timeline, items, final)
    res.design = {"timeline_inputs_sha256": digest, "timeline": encode(timeline)}
    return res


def _inputs_digest(tasks, inputs: dict) -> str:
    """SHA-256 of everything the timeline is solved from (floats exact: JSON writes their repr)."""
    text = json.dumps([[dataclasses.asdict(t) for t in tasks], inputs], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_timeline(data: dict) -> Timeline:
    """The design's timeline, solved (CP-SAT) from the same tasks and windows by an earlier run:
    plan once, fly many (:mod:`guanghan.mission.mission_design`)."""
    tasks = tuple(ScheduledTask(**t) for t in data["tasks"])
    return Timeline(tasks, *(data[k] for k in ("makespan_s", "status", "solver", "wall_s", "objective_bound_s")))
