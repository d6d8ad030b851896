"""Earth-entry leg: the scenario's capsule, parachutes and landing site flown by
:func:`~guanghan.gnc.entry_flight.simulate_entry`, guided to the site or in an open-loop mode
(``guidance.mode``), where the site is optional and only gives the miss.

Starts from the phase's ``entry_interface`` (geodetic position, speed, flight-path angle, azimuth at
a UTC epoch) or, without one, from the previous leg's final state, which must then be Earth-centred
(the trans-Earth leg ends at the entry interface). Writes the figures under the ``entry.`` and
``earth_landing.`` groups, and the bank, load, heating and Mach histories as the ``entry`` series.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.atmosphere import MsisDrivers
from guanghan.environment.geodetic import great_circle_distance
from guanghan.errors import InputError, PropagationError
from guanghan.gnc.entry_flight import EntrySettings, simulate_entry
from guanghan.gnc.entry_guidance import GuidanceSettings
from guanghan.gnc.entry_vehicle import EntryVehicle, entry_state_from_geodetic
from guanghan.mission.event_log import EventLog
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.trajectory_table import SCHEMA, build_table


def _entry_state(phase, ctx: LegContext, mass: float) -> SpacecraftState:
    ei = phase.entry_interface
    if ei is not None:
        try:
            return entry_state_from_geodetic(ei.altitude_km, ei.lat_deg, ei.lon_deg, ei.speed_m_s,
                                             ei.fpa_deg, ei.azimuth_deg, ei.utc, mass, ei.inertial)
        except InputError as exc:
            raise ctx.scenario_error(exc, "entry_interface") from None
    previous = ctx.previous
    if previous is None or previous.body != "EARTH":
        raise ctx.error("needs [phases.entry_interface] or a previous phase that ends at the Earth's "
                        "entry interface", "entry_interface")
    return previous.to_frame("J2000").with_mass(mass)


def _drivers(phase, utc: str) -> MsisDrivers | None:
    atm = phase.atmosphere
    if atm.f107_sfu is None and atm.f107a_sfu is None and atm.ap is None:
        return None
    base = MsisDrivers.for_epoch(utc)
    return MsisDrivers(atm.f107_sfu if atm.f107_sfu is not None else base.f107_prev_day_sfu,
                       atm.f107a_sfu if atm.f107a_sfu is not None else base.f107a_sfu,
                       tuple([atm.ap] * 7) if atm.ap is not None else base.ap)


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Fly the guided entry of ``phase`` and return its events, figures, trajectory and series."""
    mass = ctx.vehicle_mass_kg(phase.vehicle)
    entry = _entry_state(phase, ctx, mass)
    vehicle = EntryVehicle(phase.capsule, mass, phase.parachutes)
    drogue_km = phase.parachutes.drogue_altitude_km
    if phase.closed_loop:
        guidance, open_loop = phase.guidance.model_copy(update={
            "terminal_altitude_km": drogue_km, "max_load_g": phase.max_g,
            "load_margin_g": min(phase.guidance.load_margin_g, 0.5 * phase.max_g)}), None
    else:                               # the closed loop's settings only end the flight at the drogue
        guidance, open_loop = GuidanceSettings(terminal_altitude_km=drogue_km), phase.guidance
    settings = EntrySettings(guidance=guidance, step_s=phase.step_s,
                             msis_drivers=_drivers(phase, entry.utc),
                             truth_track_points=phase.atmosphere.truth_track_points,
                             forecast_points=phase.atmosphere.forecast_points,
                             open_loop=open_loop)
    site = ctx.scenario.sites[phase.site] if phase.site is not None else None
    try:
        res = simulate_entry(entry, vehicle, site, settings,
                             density_scale=phase.atmosphere.density_scale)
    except InputError as exc:
        raise ctx.scenario_error(exc) from None
    except PropagationError as exc:
        log = EventLog()
        log.add(entry.et, phase.name, "entry_failure", {"reason": str(exc)})
        return PhaseResult(phase.name, entry, log, {}, SCHEMA.empty_table(), aborted=str(exc),
                           leg_type=phase.type)
    result = _result(phase, res, mass, ctx.summary_only)
    failures = [e for e in res.events if e["event"] == "guidance_failure"]
    if failures:
        result.aborted = (f"entry guidance failed ({failures[0]['details'].get('reason')}); "
                          f"landed {res.summary['miss_km']:.1f} km from {phase.site}")
    return result


def _result(phase, res, mass: float, summary_only: bool = False) -> PhaseResult:
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
        "entry.guidance_mode": phase.guidance.mode,
        "entry.interface_utc": s["interface_utc"],
        "entry.interface_speed_m_s": s["interface_speed_inertial_m_s"],
        "entry.interface_fpa_deg": s["interface_fpa_inertial_deg"],
        "entry.interface_relative_speed_m_s": s["interface_speed_relative_m_s"],
        "entry.interface_relative_fpa_deg": s["interface_fpa_relative_deg"],
        "entry.skip_apogee_km": s["skip_apogee_km"],            # None: no skip out of the atmosphere
        "entry.skips_count": s["skips"],
        "entry.peak_g": peak_g,
        "entry.peak_heat_flux_w_m2": s["peak_heat_flux_w_m2"],
        "entry.heat_load_j_m2": s["heat_load_j_m2"],
        "entry.downrange_km": s["downrange_km"],
        "entry.bank_reversals_count": s["bank_reversals"],
        "entry.time_of_flight_s": s["time_of_flight_s"],
        "earth_landing.utc": s["landing_utc"],
        "earth_landing.lat_deg": s["landing_lat_deg"],
        "earth_landing.lon_deg": s["landing_lon_deg"],
        "earth_landing.miss_km": s["miss_km"],            # None without a site (open loop)
    }
    last = res.final_state_j2000()
    final = SpacecraftState(float(res.et[-1]), last[:3], last[3:], mass, "J2000", "EARTH")
    meta = {"force_model": "Earth J2 (EGM96), NRLMSIS 2.1 atmosphere, 3-DOF rotating Earth",
            "guidance_calls": res.guidance_calls, "max_g": phase.max_g}
    if summary_only:                    # a campaign sample: no table, no series (LegContext)
        return PhaseResult(name, final, log, summary, SCHEMA.empty_table(), meta,
                           leg_type=phase.type)
    states = np.column_stack([res.state_j2000, np.full(len(res.et), mass)])
    table = build_table(name, "EARTH", res.et, states)
    lat, lon = np.radians(res.lat_deg), np.radians(res.lon_deg)
    series = pa.table({
        "et_s": res.et, "time_s": res.et - res.et[0],
        "downrange_km": great_circle_distance(lat[0], lon[0], lat, lon) / 1e3,
        "altitude_km": res.altitude_km, "bank_deg": res.bank_deg, "g_load": res.g_load,
        "heat_flux_w_m2": res.heat_flux_w_m2, "mach": res.mach,
        "regime": [str(p) for p in res.phase],
    })
    return PhaseResult(name, final, log, summary, table, meta, series={"entry": series},
                       leg_type=phase.type)
