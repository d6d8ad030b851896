"""Lunar-orbit coast: propagate in the full lunar force model and log what a planner needs.

From the phase's initial state (given in the scenario, or the previous phase's final state) the
orbit is propagated with the scenario's lunar gravity field (GRGM1200A or LP165P, degree/order from
the scenario), Earth and Sun as third bodies and SRP, and these events are logged:

* ``site_longitude_crossing`` — the sub-spacecraft point crosses the landing site's longitude
  (MOON_ME); details give the sub-spacecraft latitude, the ground distance to the site and whether
  the pass is ascending or descending: the passes a descent can start from;
* ``periapsis`` / ``apoapsis`` with their altitudes;
* ``earth_occultation_start`` / ``_end`` — Earth's centre hidden by the Moon (no direct link);
* ``moon_penumbra_entry`` / ``moon_umbra_entry`` / ``..._exit`` (and the same for the Earth's shadow).

Summary figures (``<phase>.<quantity>_<unit>``): duration, mean/min/max altitude, orbital
period (Keplerian, of the mean osculating semi-major axis: apsides of a near-circular orbit
in a lumpy field are no clock), site passes and the
closest one, fractions of time occulted and in umbra, final mass, and the work done (steps,
right-hand-side evaluations).

Assumptions and limitations
    Altitude is over the Moon's mean sphere (1737.4 km), not the terrain. Earth occultation is of
    the Earth's centre by a spherical Moon (the Earth's 0.95° disc makes the real link loss a few
    seconds earlier/later).
"""

from __future__ import annotations

import math
import time

import numpy as np

from guanghan.dynamics import events as ev
from guanghan.dynamics.kepler import state_to_elements
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels, time_scales
from guanghan.environment.ephemeris import check_span
from guanghan.environment.geodetic import great_circle_distance
from guanghan.errors import EphemerisRangeError
from guanghan.mission.event_log import EventLog
from guanghan.mission.force_model_builder import lunar_force_model
from guanghan.mission.initial_conditions import state_from_cartesian, state_from_orbit
from guanghan.mission.leg import LegContext, PhaseResult
from guanghan.mission.trajectory_table import build_table, surface_coordinates


def start_state(phase, ctx: LegContext) -> SpacecraftState:
    """The state the coast starts from (J2000, Moon-centred): its own initial condition, else the
    previous leg's final state; checked against the ephemeris span over the coast."""
    previous = ctx.previous
    if phase.start_utc is not None:
        et = time_scales.utc_to_et(phase.start_utc)
    elif ctx.index == 0:
        et = ctx.scenario.epoch_et
    elif previous is not None:
        et = previous.et
    else:  # pragma: no cover - the scenario model rejects this already
        raise ctx.error("needs a start epoch", "start_utc")
    field, value = phase.end_field()
    if phase.end_et(et) - et < 36.0:
        raise ctx.error(f"the coast starts at {time_scales.et_to_utc(et)}: it must end at least 36 s "
                        "(0.01 h) later", field, value)
    try:
        check_span([et, phase.end_et(et)])
    except EphemerisRangeError as exc:
        raise ctx.error(str(exc), field, value) from None
    mass = ctx.vehicle_mass_kg(phase.vehicle)
    if phase.initial_orbit is not None:
        return state_from_orbit(phase.initial_orbit, et, mass)
    if phase.initial_state is not None:
        return state_from_cartesian(phase.initial_state, et, mass)
    if previous is None or previous.body != "MOON":
        raise ctx.error("needs [phases.initial_orbit] or [phases.initial_state], or a previous "
                        "phase ending about the Moon", "initial_orbit")
    if abs(previous.et - et) > 1e-6:
        raise ctx.error(f"starts at a different epoch than the previous phase ends ({previous.utc}) "
                        "and gives no initial state", "start_utc", phase.start_utc)
    return previous.to_frame("J2000").with_mass(mass)


def detectors_for(phase, scenario, moon_radius: float) -> list[ev.Detector]:
    kinds = set(phase.events)
    dets: list[ev.Detector] = []
    if "site_longitude" in kinds and phase.site:
        dets.append(ev.longitude_crossing(scenario.sites[phase.site].lon_deg, frames.COORDINATE_FRAME["MOON"]))
    if "periapsis" in kinds or "apoapsis" in kinds:
        d = ev.apsides()
        d.rising = "periapsis" if "periapsis" in kinds else None
        d.falling = "apoapsis" if "apoapsis" in kinds else None
        dets.append(d)
    if "earth_occultation" in kinds:
        dets.append(ev.occultation("EARTH", "MOON", moon_radius, "earth_occultation"))
    if "shadow" in kinds:
        earth_r = float(spice_kernels.radii("EARTH").mean())
        for occ, rad in (("MOON", moon_radius), ("EARTH", earth_r)):
            dets += [ev.shadow(occ, rad, "penumbra"), ev.shadow(occ, rad, "umbra")]
    return dets


def _event_details(event: ev.Event, phase, scenario, moon_radius: float) -> dict:
    lat, lon, alt = surface_coordinates("MOON", np.array([event.et]), event.state[None, :3])
    details = {"altitude_km": alt[0], "lat_deg": lat[0], "lon_deg": lon[0]}
    if event.name == "site_longitude_crossing":
        site = scenario.sites[phase.site]
        details["site"] = phase.site
        details["ground_distance_km"] = float(great_circle_distance(
            *np.radians([lat[0], lon[0], site.lat_deg, site.lon_deg]), moon_radius)) / 1e3
        r_me = frames.transform_states(event.state[None, :6], "J2000", "MOON_ME", [event.et])[0]
        details["direction"] = "ascending" if r_me[5] > 0 else "descending"
    return details


def _interval_fraction(events, start_name: str, end_name: str, t0: float, t1: float, inside0: bool) -> float:
    """Fraction of [t0, t1] between ``start_name`` and ``end_name`` events."""
    total, inside, since = 0.0, inside0, t0
    for e in events:
        if e.name == start_name and not inside:
            inside, since = True, e.et
        elif e.name == end_name and inside:
            total += e.et - since
            inside = False
    if inside:
        total += t1 - since
    return total / (t1 - t0)


def fly(phase, ctx: LegContext) -> PhaseResult:
    """Propagate the coast for ``phase.duration_h`` (or to ``phase.end_utc``) from its initial
    condition (or the previous leg)."""
    scenario = ctx.scenario
    start = start_state(phase, ctx)
    name = phase.name
    model = lunar_force_model(scenario, phase.vehicle)
    moon_radius = float(spice_kernels.radii("MOON").mean())
    end_et = phase.end_et(start.et)
    prop = phase.propagation
    dets = detectors_for(phase, scenario, moon_radius)
    dets.append(ev.altitude(0.0, moon_radius, terminal=True, name="surface"))
    wall = time.perf_counter()
    res = propagate(start, end_et, model, Tolerances(prop.rtol, prop.atol_m, prop.max_step_s), dets,
                    integrator=prop.integrator)
    wall = time.perf_counter() - wall
    traj = res.trajectory

    log = EventLog()
    log.add(start.et, name, "phase_start", {"force_model": model.describe(), "mass_kg": start.mass})
    for e in res.events:
        if e.name == "surface_down":
            log.add(e.et, name, "surface_impact", _event_details(e, phase, scenario, moon_radius))
        else:
            log.add(e.et, name, e.name, _event_details(e, phase, scenario, moon_radius))
    log.add(traj.end_et, name, "phase_end", {"mass_kg": traj.final_state[6]})

    ets, states = traj.sample(phase.output_step_s)
    table = build_table(name, "MOON", ets, states)
    passes = [(r["et_s"], r["details"]["ground_distance_km"]) for r in log.records
              if r["event"] == "site_longitude_crossing"]
    summary = _summary(name, traj, res.events, table, model.central.mu, start, passes, set(phase.events))
    meta = {"force_model": model.describe(), "propagation_wall_s": wall, "steps": traj.n_steps}
    return PhaseResult(name, res.final_state, log, summary, table, meta)


def _summary(name, traj, events, table, mu, start, passes, kinds: set[str]) -> dict:
    alt = table.column("altitude_km").to_numpy()
    xyz = np.column_stack([table.column(c).to_numpy() for c in ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")])
    sma = np.array([state_to_elements(mu, x[:3], x[3:]).a for x in xyz])
    period_s = 2.0 * math.pi * math.sqrt(float(sma.mean()) ** 3 / mu)   # of the mean osculating a
    s = {
        f"{name}.start_utc": time_scales.et_to_utc(traj.start_et),
        f"{name}.end_utc": time_scales.et_to_utc(traj.end_et),
        f"{name}.duration_h": (traj.end_et - traj.start_et) / 3600.0,
        f"{name}.mean_altitude_km": float(alt.mean()),
        f"{name}.min_altitude_km": float(alt.min()),
        f"{name}.max_altitude_km": float(alt.max()),
        f"{name}.orbital_period_min": period_s / 60.0,
        f"{name}.final_mass_kg": float(traj.final_state[6]),
        f"{name}.integrator_steps_count": traj.n_steps,
        f"{name}.rhs_evaluations_count": traj.n_eval,
    }
    if "earth_occultation" in kinds:
        s[f"{name}.earth_occulted_percent"] = 100.0 * _interval_fraction(
            events, "earth_occultation_start", "earth_occultation_end", traj.start_et, traj.end_et,
            _occulted_at_start(table))
    if "shadow" in kinds:
        s[f"{name}.moon_umbra_percent"] = 100.0 * _interval_fraction(
            events, "moon_umbra_entry", "moon_umbra_exit", traj.start_et, traj.end_et,
            bool(table.column("sunlit")[0].as_py() == 0.0))
    if "site_longitude" in kinds:
        s[f"{name}.site_passes_count"] = len(passes)
    if passes:
        et_best, km_best = min(passes, key=lambda p: p[1])
        s[f"{name}.closest_site_pass_utc"] = time_scales.et_to_utc(et_best)
        s[f"{name}.closest_site_pass_km"] = km_best
    return s


def _occulted_at_start(table) -> bool:
    et = table.column("et_s")[0].as_py()
    r = np.array([table.column(c)[0].as_py() for c in ("x_m", "y_m", "z_m")])
    earth = spice_kernels.body_positions("EARTH", "MOON", "J2000", [et])[0]
    d = earth - r
    o = -r
    p = min(1.0, max(0.0, float(np.dot(o, d) / np.dot(d, d))))
    return bool(np.linalg.norm(o - p * d) < spice_kernels.radii("MOON").mean())
