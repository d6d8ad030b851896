"""Trans-Earth phase of a scenario: the return of :func:`~guanghan.mission.phases.trans_earth.fly_return`
from a lunar parking orbit to the Earth entry interface, with the scenario's engines and masses.

The start is the designed parking orbit (``[phases.parking_orbit]``), given elements
(``[phases.initial_orbit]`` at ``start_utc``), or the previous phase's final state (Moon-centred,
before TEI-1). The phase ends with the returner at the entry interface (Earth-centred J2000), which
the ``earth_entry`` phase takes up. Figures keep the issue's keys ``tei.delta_v_m_s`` and
``return.mcc_delta_v_m_s``; the others go under the phase name (``trans_earth.tei2_duration_s``,
``trans_earth.entry_interface_utc``), so the entry phase's own ``entry.*`` figures are not shadowed.
A targeting failure is logged as ``guidance_failure`` and ends the mission there.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import time_scales
from guanghan.errors import GuidanceFailure, ScenarioError
from guanghan.gnc.return_targeting import Engine
from guanghan.mission.event_log import EventLog
from guanghan.mission.initial_conditions import state_from_orbit
from guanghan.mission.phase_result import PhaseResult
from guanghan.mission.phases.trans_earth import (ExecutionErrors, ReturnConfig, design_parking_orbit,
                                                 fly_return)
from guanghan.mission.trajectory_table import SCHEMA, build_table

#: figures kept under their own group, as the mission issue names them
_TOP_LEVEL = ("tei.delta_v_m_s", "return.mcc_delta_v_m_s")

#: ReturnConfig field → scenario field of the trans_earth phase (for error messages)
_FIELDS = {
    "tei1_utc": "tei_1.utc", "tei1_engine": "tei_1.engine", "tei1_duration_guess_s": "tei_1.duration_guess_s",
    "tei2_utc": "tei_2.utc", "tei2_engine": "tei_2.engine", "tei2_duration_guess_s": "tei_2.duration_guess_s",
    "mcc_utc": "midcourse.utc", "mcc_engine": "midcourse.engine",
    "separation_altitude_km": "separation.altitude_km", "orbiter_divert_engine": "orbiter_divert.engine",
    "orbiter_min_perigee_altitude_km": "orbiter_divert.min_perigee_altitude_km",
    "entry_utc": "entry_target.utc", "entry_fpa_deg": "entry_target.fpa_deg",
    "downrange_min_km": "entry_target.downrange_min_km", "downrange_max_km": "entry_target.downrange_max_km",
    "orbiter_mass_kg": "start_mass_kg", "returner_mass_kg": "separation.returner_vehicle",
    "altitude_km": "parking_orbit.altitude_km", "inclination_deg": "parking_orbit.inclination_deg",
    "start": "initial_orbit",
}


def return_config(phase, scenario, start_mass_kg: float) -> ReturnConfig:
    """The :class:`ReturnConfig` of a scenario ``trans_earth`` phase, for a stack of ``start_mass_kg``."""
    engines = scenario.vehicle_engines(phase.vehicle)

    def engine(name: str) -> Engine:
        e = engines[name]
        return Engine(e.thrust_n, e.isp_s, e.count)

    returner_kg = scenario.vehicle_mass_kg(phase.separation.returner_vehicle)
    site = scenario.sites[phase.site]
    tgt, err, fm = phase.entry_target, phase.execution_errors, phase.force_models
    return ReturnConfig(
        tei1_utc=phase.tei_1.utc, tei1_engine=engine(phase.tei_1.engine),
        tei1_duration_guess_s=phase.tei_1.duration_guess_s,
        tei2_utc=phase.tei_2.utc, tei2_engine=engine(phase.tei_2.engine),
        tei2_duration_guess_s=phase.tei_2.duration_guess_s,
        tei2_reference_duration_s=phase.tei_2.published_duration_s,
        mcc_utc=tuple(phase.midcourse.utc), mcc_engine=engine(phase.midcourse.engine),
        separation_altitude_km=phase.separation.altitude_km,
        orbiter_divert_engine=engine(phase.orbiter_divert.engine),
        orbiter_min_perigee_altitude_km=phase.orbiter_divert.min_perigee_altitude_km,
        orbiter_divert_delay_s=phase.orbiter_divert.delay_s,
        orbiter_divert_margin_km=phase.orbiter_divert.margin_km,
        entry_utc=tgt.utc, entry_fpa_deg=tgt.fpa_deg, entry_altitude_km=tgt.altitude_km,
        fpa_reference=tgt.fpa_reference, epoch_weight_s=tgt.epoch_weight_s,
        landing_lat_deg=site.lat_deg, landing_lon_deg=site.lon_deg,
        downrange_min_km=tgt.downrange_min_km, downrange_max_km=tgt.downrange_max_km,
        orbiter_mass_kg=start_mass_kg - returner_kg, returner_mass_kg=returner_kg,
        execution_errors=ExecutionErrors(err.thrust_sigma_pct, err.pointing_sigma_deg, err.seed),
        lunar_degree=fm.lunar_degree, earth_degree=fm.earth_degree, soi_radius_km=fm.soi_radius_km)


def _start(phase, scenario, where: str, previous: SpacecraftState | None) -> tuple[SpacecraftState | None, float]:
    """(start state or None when it is to be designed, stack mass kg)."""
    if phase.parking_orbit is None and phase.initial_orbit is None:
        tei1_et = time_scales.utc_to_et(phase.tei_1.utc)
        if previous is None or previous.body != "MOON" or previous.et >= tei1_et:
            got = "nothing" if previous is None else f"a {previous.body}-centred state at {previous.utc}"
            raise ScenarioError(f"needs [phases.parking_orbit] or [phases.initial_orbit], or a previous "
                                f"phase ending about the Moon before TEI-1; the previous phase gives {got}",
                                file=str(scenario.source_path), field=f"{where}.parking_orbit")
        mass = phase.start_mass_kg or previous.mass
        return previous.to_frame("J2000").with_mass(mass), mass
    mass = phase.start_mass_kg or scenario.vehicle_mass_kg(phase.vehicle)
    if phase.initial_orbit is not None:
        et = time_scales.utc_to_et(phase.start_utc)
        return state_from_orbit(phase.initial_orbit, et, mass), mass
    return None, mass


def run_trans_earth(phase, scenario, index: int, previous: SpacecraftState | None) -> PhaseResult:
    """Plan and fly the return of ``phase``; the result ends at the entry interface."""
    where, file = f"phases[{index}]", str(scenario.source_path)
    start, mass = _start(phase, scenario, where, previous)
    config = return_config(phase, scenario, mass)
    log = EventLog()
    try:
        if start is None:
            p = phase.parking_orbit
            start = design_parking_orbit(config, altitude_km=p.altitude_km, inclination_deg=p.inclination_deg,
                                         lead_s=p.lead_s)
        res = fly_return(config, start)
    except ScenarioError as exc:
        field = _FIELDS.get(exc.field, exc.field) if exc.field else None
        raise ScenarioError(exc.reason, file=file, field=f"{where}.{field}" if field else where,
                            value=exc.value) from None
    except GuidanceFailure as exc:
        et = start.et if start is not None else time_scales.utc_to_et(phase.tei_1.utc)
        log.add(et, phase.name, "guidance_failure", {"phase": exc.phase, "reason": exc.reason})
        final = start or SpacecraftState(et, np.zeros(3), np.zeros(3), mass, "J2000", "MOON")
        return PhaseResult(phase.name, final, log, {}, SCHEMA.empty_table(), aborted=exc.reason)
    for e in res.events:
        log.add(e["et"], phase.name, e["event"], e.get("details", {}))
    summary = _summary(phase.name, res.figures)
    summary[f"{phase.name}.start_utc"] = time_scales.et_to_utc(start.et)
    table = pa.concat_tables([_table(phase.name, t, phase.output_step_s) for t in res.trajectory])
    orbiter = pa.concat_tables([_table(f"{phase.name}_orbiter", t, phase.output_step_s)
                                for t in res.orbiter_trajectory])
    final = SpacecraftState(res.entry_et, np.asarray(res.r_entry_j2000), np.asarray(res.v_entry_j2000),
                            config.returner_mass_kg, "J2000", "EARTH")
    meta = {"force_model": (f"Moon GRGM1200A {config.lunar_degree}x{config.lunar_degree} + Earth + Sun inside "
                            f"{config.soi_radius_km:.0f} km of the Moon; Earth EGM96 {config.earth_degree}x"
                            f"{config.earth_degree} + Moon + Sun outside"),
            "burns": {k: _burn_text(b) for k, b in res.burns.items() if b is not None}}
    return PhaseResult(phase.name, final, log, summary, table, meta, series={"orbiter": orbiter})


def _summary(name: str, figures: dict) -> dict:
    """The issue's top-level keys as they are; ``group.quantity`` → ``<phase>.group_quantity``."""
    out = {}
    for key, value in figures.items():
        out[key if key in _TOP_LEVEL else f"{name}.{key.replace('.', '_')}"] = value
    return out


def _table(phase_name: str, traj, step_s: float) -> pa.Table:
    """Sampled trajectory leg; near the Moon at most 60 s apart, so low orbits keep their shape."""
    step = min(step_s, 60.0) if traj.body == "MOON" else step_s
    ets, states = traj.sample(step)
    return build_table(phase_name, traj.body, ets, states)


def _burn_text(burn) -> dict:
    return {"start_utc": time_scales.et_to_utc(burn.start_et), "duration_s": float(burn.duration_s),
            "thrust_n": float(burn.thrust_n), "isp_s": float(burn.isp_s), "direction": burn.direction}
