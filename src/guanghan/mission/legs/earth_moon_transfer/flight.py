"""Earth–Moon transfer leg: :func:`~guanghan.gnc.lunar_transfer_flight.fly_transfer` with the
scenario's engines and the modules' masses.

The stack's mass at injection is the sum of its modules' current masses; each burn's propellant
comes out of the module of its engine (``<module>.<engine>``). The leg starts at the designed
injection (Earth-centred J2000) and ends at the end of the last LOI burn with the stack in lunar
orbit (Moon-centred J2000): the state a ``lunar_orbit_coast`` (or any leg starting about the Moon)
continues from. Figures keep their groups ``transfer``, ``loi`` and ``lunar_orbit``; per-burn
figures go under the phase name (``<phase>.loi1_duration_s``). The series ``b_plane`` holds the
B-plane points (km; the aim, the injection design, the prediction before and after each midcourse
correction, the flown arrival) for the report. A targeting failure is logged as
``guidance_failure`` and ends the mission there; an impossible input (an arrival the transfer
cannot reach, an engine too weak to capture, a periselene below the terrain) is a ScenarioError.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, time_scales
from guanghan.environment.geodetic import cartesian_from_planetodetic
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc.lunar_transfer_flight import TransferDesignPlan, fly_transfer
from guanghan.gnc.lunar_transfer_plan import TransferProblem
from guanghan.mission.event_log import EventLog
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.mission_design import decode, encode
from guanghan.mission.trajectory_table import SCHEMA, burn_record, leg_table

_GROUPS = ("transfer", "loi", "lunar_orbit")


def _launch_site_j2000(phase, ctx: LegContext) -> np.ndarray | None:
    """The launch site's J2000 position (m, Earth-centred) at the launch epoch, if one is named."""
    name = phase.injection.launch_site
    if name is None:
        return None
    site = ctx.scenario.sites[name]
    r = cartesian_from_planetodetic(math.radians(site.lat_deg), math.radians(site.lon_deg), site.altitude_m)
    et = time_scales.utc_to_et(phase.injection.launch_utc)
    return frames.rotation("ITRF93", "J2000", [et])[0] @ r


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Design and fly the transfer of ``phase``; the result ends in lunar orbit."""
    scenario = ctx.scenario
    mass = ctx.vehicle_mass_kg(phase.vehicle)
    modules = {name.split(".", 1)[0] for name in phase.engine_names().values()}
    propellant = {m: ctx.masses[m] - scenario.modules[m].dry_mass_kg for m in modules}
    problem = TransferProblem(phase, ctx.engines(phase.vehicle), mass, propellant)
    log = EventLog()
    try:
        stored = decode(TransferDesignPlan, ctx.design["transfer"]) if ctx.design else None
        res = fly_transfer(problem, _launch_site_j2000(phase, ctx), stored)
    except InputError as exc:
        raise ctx.scenario_error(exc) from None
    except GuidanceFailure as exc:
        et = phase.injection.et
        log.add(et, phase.name, "guidance_failure", {"phase": exc.phase, "reason": exc.reason})
        final = SpacecraftState(et, np.zeros(3), np.zeros(3), mass, "J2000", "EARTH")
        return PhaseResult(phase.name, final, log, {}, SCHEMA.empty_table(), aborted=exc.reason,
                           leg_type=phase.type)
    for e in res.events:
        log.add(e["et"], phase.name, e["event"], e.get("details", {}))
    summary = {key if key.split(".", 1)[0] in _GROUPS else f"{phase.name}.{key.replace('.', '_')}": value
               for key, value in res.figures.items()}
    table = pa.concat_tables([leg_table(phase.name, t, phase.output_step_s) for t in res.trajectory])
    fm = phase.force_models
    meta = {"force_model": (f"Earth EGM96 {fm.earth_degree}x{fm.earth_degree} + Moon + Sun outside "
                            f"{fm.soi_radius_km:.0f} km of the Moon; Moon GRGM1200A {fm.lunar_degree}x"
                            f"{fm.lunar_degree} + Earth + Sun inside"),
            "burns": {k: burn_record(b) for k, b in res.burns.items() if b is not None}}
    masses = {m: ctx.masses[m] - kg for m, kg in res.propellant_used_kg.items()}
    series = {"b_plane": pa.Table.from_pylist(res.b_plane)}
    return PhaseResult(phase.name, res.final_state, log, summary, table, meta, series=series,
                       module_masses=masses, leg_type=phase.type, design={"transfer": encode(res.plan)})
