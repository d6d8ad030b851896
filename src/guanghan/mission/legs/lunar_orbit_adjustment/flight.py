"""Lunar-orbit adjustment leg: :func:`~guanghan.gnc.site_plane_adjustment.fly_adjustment` with the
scenario's engines, the site and the modules' masses.

Starts from the previous leg's final state about the Moon (the capture ellipse after LOI) and ends
at ``end_utc`` in the low orbit. Figures go under ``orbit_adjustment.*``; each burn's propellant
comes out of the module of its engine (``<module>.<engine>``). A trim that does not converge or
lacks propellant is a ``guidance_failure`` ending the mission there; an impossible input (no pass in
the window, a circularisation too long for its engine) is a ScenarioError.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from guanghan.dynamics.propagator import Tolerances
from guanghan.environment import frames, spice_kernels, time_scales
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc.site_plane_adjustment import (
    AdjustmentDesign,
    AdjustmentProblem,
    fly_adjustment,
)
from guanghan.mission.event_log import EventLog
from guanghan.mission.force_model_builder import lunar_force_model
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.mission_design import decode, encode
from guanghan.mission.trajectory_table import SCHEMA, burn_record, leg_table

#: as the lunar-orbit coast's defaults (rtol, atol m, max step s): the leg is ~3 weeks of coast
_TOLERANCES = Tolerances(1e-11, 1e-4, 600.0)


def _site_unit_j2000(site, et: float) -> np.ndarray:
    lat, lon = math.radians(site.lat_deg), math.radians(site.lon_deg)
    me = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    return frames.rotation("MOON_ME", "J2000", [et])[0] @ me


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Design and fly the adjustment of ``phase`` from the previous leg's state."""
    start = ctx.previous
    if start is None or start.body != "MOON":
        raise ctx.error("starts from the previous phase's state about the Moon", "type", phase.type)
    engines = ctx.engines(phase.vehicle)
    mass = ctx.vehicle_mass_kg(phase.vehicle)
    start = start.to_frame("J2000").with_mass(mass)
    modules = ctx.scenario.vehicles[phase.vehicle].modules
    left = {m: ctx.masses[m] - ctx.scenario.modules[m].dry_mass_kg for m in modules}
    circ_module = phase.circularisation.engine.split(".", 1)[0]
    trim_module = phase.plane_trim.engine.split(".", 1)[0]
    et_pd = time_scales.utc_to_et(phase.powered_descent_utc)
    window = (max(time_scales.utc_to_et(phase.circularisation.earliest_utc), start.et + 600.0),
              time_scales.utc_to_et(phase.circularisation.latest_utc))
    problem = AdjustmentProblem(
        engines[phase.circularisation.engine], engines[phase.plane_trim.engine],
        phase.circularisation.mean_altitude_km * 1e3, phase.circularisation.steering, et_pd,
        _site_unit_j2000(ctx.scenario.sites[phase.site], et_pd), window,
        time_scales.utc_to_et(phase.plane_trim.not_before_utc), time_scales.utc_to_et(phase.end_utc),
        left[circ_module], left[trim_module], phase.execution_errors, phase.circularisation.scan_stride)
    model = lunar_force_model(ctx.scenario, phase.vehicle)
    log = EventLog()
    stored = decode(AdjustmentDesign, ctx.design["orbit_adjustment"]) if ctx.design else None
    try:
        res = fly_adjustment(start, model, _TOLERANCES, problem, stored)
    except InputError as exc:
        raise ctx.scenario_error(exc) from None
    except GuidanceFailure as exc:
        log.add(start.et, phase.name, "guidance_failure", {"phase": exc.phase, "reason": exc.reason})
        return PhaseResult(phase.name, start, log, {}, SCHEMA.empty_table(), aborted=exc.reason,
                           leg_type=phase.type)
    log.add(start.et, phase.name, "phase_start", {"force_model": model.describe(), "mass_kg": start.mass})
    for e in res.events:
        log.add(e["et"], phase.name, e["event"], e["details"])
    log.add(res.final_state.et, phase.name, "phase_end", {"mass_kg": res.final_state.mass})
    summary = {f"orbit_adjustment.{k}": v for k, v in res.figures.items()}
    summary["orbit_adjustment.propellant_kg"] = sum(res.propellant_kg.values())
    masses = dict(ctx.masses)
    masses[circ_module] -= res.propellant_kg["circularisation"]
    masses[trim_module] -= res.propellant_kg.get("trim", 0.0)
    masses = {m: masses[m] for m in {circ_module, trim_module}}
    table = (SCHEMA.empty_table() if ctx.summary_only else
             pa.concat_tables([leg_table(phase.name, leg.trajectory, phase.output_step_s) for leg in res.legs]))
    meta = {"force_model": model.describe(), "burns": {k: burn_record(b) for k, b in res.burns.items()}}
    r_moon_km = float(spice_kernels.radii("MOON").mean()) / 1e3
    series = {} if ctx.summary_only else {"scan": pa.Table.from_pylist(
        [{"utc": time_scales.et_to_utc(et), "site_offset_km": off * r_moon_km,
          "chosen": et == res.design.circularisation_et} for et, off in res.scan],
        schema=pa.schema([("utc", pa.string()), ("site_offset_km", pa.float64()), ("chosen", pa.bool_())]))}
    return PhaseResult(phase.name, res.final_state, log, summary, table, meta, series=series,
                       module_masses=masses, leg_type=phase.type,
                       design={"orbit_adjustment": encode(res.design)})
