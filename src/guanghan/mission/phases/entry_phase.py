"""Earth-entry phase: the scenario's capsule, parachutes and landing site flown by ``simulate_entry``.

Starts from the phase's ``entry_interface`` (geodetic position, speed, flight-path angle, azimuth
at a UTC epoch) or, without one, from the previous phase's final state, which must then be
Earth-centred (the trans-Earth leg ends at the entry interface). Writes the figures the mission
issue names, under the ``entry.`` and ``earth_landing.`` groups, and the per-phase ones under the
phase's own name; returns the bank, load and heating histories as a series for the report.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.atmosphere import MsisDrivers
from guanghan.errors import ScenarioError
from guanghan.gnc.entry_guidance import GuidanceSettings
from guanghan.gnc.parachute import ParachuteSystem
from guanghan.mission.event_log import EventLog
from guanghan.mission.phase_result import PhaseResult
from guanghan.mission.phases.earth_entry import (Capsule, EntryInterfaceState, EntrySettings,
                                                 LandingTarget, simulate_entry)
from guanghan.mission.trajectory_table import build_table


def _entry_state(phase, previous: SpacecraftState | None, where: str, file: str) -> EntryInterfaceState:
    ei = phase.entry_interface
    if ei is not None:
        return EntryInterfaceState.from_geodetic(ei.altitude_km, ei.lat_deg, ei.lon_deg, ei.speed_m_s,
                                                 ei.fpa_deg, ei.azimuth_deg, ei.utc, ei.inertial)
    if previous is None or previous.body != "EARTH":
        raise ScenarioError("needs [phases.entry_interface] or a previous phase that ends at the Earth's "
                            "entry interface", file=file, field=f"{where}.entry_interface")
    prev = previous.to_frame("J2000")
    return EntryInterfaceState.from_j2000(prev.r, prev.v, prev.et)


def _drivers(phase, utc: str) -> MsisDrivers | None:
    atm = phase.atmosphere
    if atm.f107_sfu is None and atm.f107a_sfu is None and atm.ap is None:
        return None
    base = MsisDrivers.for_epoch(utc)
    return MsisDrivers(atm.f107_sfu if atm.f107_sfu is not None else base.f107_prev_day_sfu,
                       atm.f107a_sfu if atm.f107a_sfu is not None else base.f107a_sfu,
                       tuple([atm.ap] * 7) if atm.ap is not None else base.ap)


def run_earth_entry(phase, scenario, index: int, previous: SpacecraftState | None) -> PhaseResult:
    """Fly the guided entry of ``phase`` and return its events, figures, trajectory and series."""
    where, file = f"phases[{index}]", str(scenario.source_path)
    entry = _entry_state(phase, previous, where, file)
    mass = previous.mass if (previous is not None and phase.entry_interface is None) \
        else scenario.vehicle_mass_kg(phase.vehicle)
    chutes = phase.parachutes
    cap = phase.capsule
    capsule = Capsule(mass, cap.reference_area_m2, cap.lift_to_drag, cap.nose_radius_m,
                      tuple(tuple(row) for row in cap.cd_mach),
                      ParachuteSystem(chutes.drogue_altitude_km, chutes.drogue_cd_area_m2,
                                      chutes.main_altitude_km, chutes.main_cd_area_m2,
                                      chutes.wind_east_m_s, chutes.wind_north_m_s),
                      cap.max_bank_rate_deg_s)
    site = scenario.sites[phase.site]
    target = LandingTarget(site.lat_deg, site.lon_deg, site.altitude_m, phase.site)
    g = phase.guidance
    guidance = dataclasses.replace(
        GuidanceSettings(), period_s=g.period_s, sigma_final_deg=g.sigma_final_deg,
        sensible_atmosphere_km=g.sensible_atmosphere_km, corridor_km=g.corridor_km,
        corridor_km_per_km_s=g.corridor_km_per_km_s, max_reversals=g.max_reversals,
        terminal_altitude_km=chutes.drogue_altitude_km, max_load_g=phase.max_g,
        load_margin_g=min(g.load_margin_g, 0.5 * phase.max_g))
    utc = phase.entry_interface.utc if phase.entry_interface else previous.utc
    settings = EntrySettings(guidance=guidance, step_s=phase.step_s, msis_drivers=_drivers(phase, utc))
    try:
        res = simulate_entry(entry, capsule, target, settings)
    except ScenarioError as exc:
        raise ScenarioError(exc.reason, file=file, field=f"{where}.{exc.field}" if exc.field else where,
                            value=exc.value) from None
    return _result(phase, res, mass)


def _result(phase, res, mass: float) -> PhaseResult:
    name = phase.name
    log = EventLog()
    for e in res.events:
        log.add(e["et"], name, e["event"], e.get("details", {}))
    s = res.summary
    peak_g = s["peak_g"]
    if peak_g > phase.max_g:
        i = int(np.argmax(res.g_load))
        log.add(float(res.et[i]), name, "g_limit_exceeded", {"peak_g": peak_g, "limit_g": phase.max_g})
    summary = {
        "entry.interface_utc": s["interface_utc"],
        "entry.interface_speed_m_s": s["interface_speed_inertial_m_s"],
        "entry.interface_fpa_deg": s["interface_fpa_inertial_deg"],
        "entry.interface_relative_speed_m_s": s["interface_speed_relative_m_s"],
        "entry.interface_relative_fpa_deg": s["interface_fpa_relative_deg"],
        "entry.skip_apogee_km": s["skip_apogee_km"],
        "entry.peak_g": peak_g,
        "entry.peak_heat_flux_w_m2": s["peak_heat_flux_w_m2"],
        "entry.heat_load_j_m2": s["heat_load_j_m2"],
        "entry.downrange_km": s["downrange_km"],
        "entry.bank_reversals_count": s["bank_reversals"],
        "entry.time_of_flight_s": s["time_of_flight_s"],
        "earth_landing.utc": s["landing_utc"],
        "earth_landing.lat_deg": s["landing_lat_deg"],
        "earth_landing.lon_deg": s["landing_lon_deg"],
        "earth_landing.miss_km": s["miss_km"],
    }
    states = np.column_stack([res.state_j2000, np.full(len(res.et), mass)])
    table = build_table(name, "EARTH", res.et, states)
    series = pa.table({
        "et_s": res.et, "time_s": res.et - res.et[0], "downrange_km": _downrange_km(res),
        "altitude_km": res.altitude_km, "bank_deg": res.bank_deg, "g_load": res.g_load,
        "heat_flux_w_m2": res.heat_flux_w_m2, "mach": res.mach,
        "regime": [str(p) for p in res.phase],
    })
    final = SpacecraftState(float(res.et[-1]), res.state_j2000[-1, :3], res.state_j2000[-1, 3:], mass,
                            "J2000", "EARTH")
    meta = {"force_model": "Earth J2 (EGM96), NRLMSIS 2.1 atmosphere, 3-DOF rotating Earth",
            "guidance_calls": res.guidance_calls}
    return PhaseResult(name, final, log, summary, table, meta, series={"entry": series})


def _downrange_km(res) -> np.ndarray:
    """Great-circle distance (km) of each point from the entry-interface ground point."""
    lat0, lon0 = np.radians(res.lat_deg[0]), np.radians(res.lon_deg[0])
    lat, lon = np.radians(res.lat_deg), np.radians(res.lon_deg)
    c = np.sin(lat0) * np.sin(lat) + np.cos(lat0) * np.cos(lat) * np.cos(lon - lon0)
    return 6371.0088 * np.arccos(np.clip(c, -1.0, 1.0))
