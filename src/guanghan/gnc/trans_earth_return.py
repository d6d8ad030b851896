"""The flown return: TEI-1, TEI-2, coast, midcourse corrections, separation, orbiter divert, EI.

:func:`fly_return` plans and flies the return of the orbiter-returner stack from a lunar parking
orbit to the 120 km entry interface (EI), on the full force model of
:mod:`guanghan.gnc.return_targeting` (Moon-centred inside the lunar SOI, Earth-centred outside):

1. plan: TEI-1 (prograde, published epoch) is solved for the duration putting the next periapsis
   at the middle of TEI-2; TEI-2 (published epoch) for duration and fixed J2000 direction hitting
   the EI targets (FPA, crossrange 0, epoch, downrange band);
2. fly: TEI-1 (accelerometer cut-off) and TEI-2 (timer or accelerometer cut-off, as the execution
   errors say) are executed with seeded thrust, pointing and accelerometer errors; each midcourse correction (MCC) re-targets FPA, crossrange and the
   planned EI epoch and is flown with errors too; at the separation altitude the returner flies
   on to the EI and the orbiter diverts (burn along the local horizontal) to a safe perigee.

Figures (``<group>.<quantity>_<unit>``): ``tei.delta_v_m_s`` (both TEI burns, Isp g0 ln(m0/m1)),
``tei1/tei2.duration_s``, ``return.mcc_delta_v_m_s`` and per MCC, ``entry.interface_utc``,
``entry.interface_speed_m_s`` (inertial), ``entry.interface_fpa_deg`` (EARTH-RELATIVE, geocentric
horizontal, as the entry phase uses), ``entry.interface_fpa_inertial_deg``, lat/lon (geodetic),
azimuth (of the Earth-relative velocity), crossrange/downrange to the site,
``orbiter.perigee_altitude_km``, ``separation.lat_deg/lon_deg/altitude_km`` (geodetic sub-point),
``parking_orbit.altitude_km`` (mean over one revolution, over the mean sphere),
``parking_orbit.inclination_deg`` (to the lunar equator, MOON_ME), ``tei1.perilune_altitude_km``
(osculating, after TEI-1), ``tei2.altitude_km`` (mid-burn), ``tei2.implied_stack_mass_kg``.

Assumptions and limitations
    * The post-docking orbit is an input (not public for Chang'e-5): :func:`~guanghan.gnc.parking_orbit_design.design_parking`
      builds a circular one of a requested altitude (and, optionally, inclination to the lunar
      equator) from which the published epochs work, solving the rotation of the departure plane
      about its asymptote (and the TEI-2 periapsis altitude when the inclination is given).
    * TEI-2 is planned from the designed departure turned onto the coast's orbit plane (three
      least-squares stages, :func:`~guanghan.gnc.return_targeting.solve_tei2`) and RE-PLANNED
      from the flown post-TEI-1 orbit when TEI-1 had errors (perfect navigation over the day
      between them).
    * Execution errors (1σ thrust %, pointing ° per axis) are drawn from one seeded Generator in
      a fixed order (TEI-1, TEI-2, MCC-1..n, divert; three standard normals each) and applied to
      every burn. TEI-1 is velocity-tracking with an accelerometer cut-off: its pointing error is
      a tilt fixed in the velocity frame, flown as a prograde part plus a massless side part in
      12 inertial pieces (:func:`~guanghan.gnc.execution_errors.tracked_tilt`). TEI-2, MCCs and the
      divert are fixed-attitude burns cut off by timer or, with ``execution_errors.cutoff =
      "accelerometer"``, by the sensed Δv (:func:`~guanghan.gnc.execution_errors.dispersed`).
    * TEI-2 with the assumed masses lasts ~18 min against the published ~22 min [CE5-CRI1213];
      ``tei2.implied_stack_mass_kg`` is the stack mass the published duration implies for the
      flown Δv (Tsiolkovsky), for revising the (assumed) orbiter mass; nothing is tuned here.
    * Masses: the stack is orbiter + returner; the returner's mass is constant; all burns are
      the orbiter's. No SRP, no attitude-control disturbances, perfect navigation.

References
    See :mod:`guanghan.gnc.return_targeting`; published epochs in the project's validation notes
    (Chang'e-5 §1f).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from guanghan.dynamics.conics import b_plane_angle_of_plane, conic_periapsis
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.local_frames import angles_from_direction, vnb_axes
from guanghan.dynamics.patched_flight import Flight, PatchedModels, geodetic_altitude
from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.propulsion import burn_duration, delta_v_from_masses, mass_for_burn
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.dynamics.state import SpacecraftState
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment import time_scales
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc import departure_design as dd
from guanghan.gnc import return_targeting as rt
from guanghan.gnc.entry_target import EntryGeometry, entry_geometry
from guanghan.gnc.execution_errors import dispersed, error_draws, tracked_tilt
from guanghan.gnc.orbiter_divert import fly_divert
from guanghan.gnc.parking_orbit_design import inclination_deg, moon_radius
from guanghan.gnc.return_plan import ReturnProblem


@dataclass
class ReturnResult:
    """Returner at the EI (ET, J2000 Earth-centred), trajectories, events and figures."""

    entry_et: float
    r_entry_j2000: np.ndarray
    v_entry_j2000: np.ndarray
    trajectory: list[Trajectory]
    orbiter_trajectory: list[Trajectory]
    events: list[dict]
    figures: dict
    entry: EntryGeometry
    burns: dict
    plan: "TeiPlan | None" = None


def _add(events: list, et: float, name: str, **details) -> None:
    events.append({"et": float(et), "event": name, "details": details})


def _mass_dv(flight: Flight, burn: FiniteBurn, isp_s: float) -> float:
    """Δv (m/s) from the mass drop over ``burn`` along ``flight``: Isp g0 ln(m0/m1)."""
    traj = flight.legs[0].trajectory
    m0, m1 = traj.states([burn.start_et, burn.end_et])[:, 6]
    return delta_v_from_masses(m0, m1, isp_s)


@dataclass(frozen=True)
class TeiPlan:
    """Planned TEI-1 and TEI-2 burns, the TEI-2 unknowns, the designed departure aimed at, the
    planned EI geometry and the state planned at TEI-2's ignition (after the nominal TEI-1); once
    flown, the TEI-2 re-targeted from the flown orbit and the state it was re-targeted from (flown
    again as it is from that same state)."""

    tei1: FiniteBurn
    tei2: FiniteBurn
    tei2_x: np.ndarray
    aim: dd.Departure
    entry: EntryGeometry
    tei2_state: SpacecraftState
    tei2_replanned: FiniteBurn | None = None
    tei2_replanned_from: SpacecraftState | None = None


def plan_tei(cfg: ReturnProblem, start: SpacecraftState, models: PatchedModels) -> TeiPlan:
    """Nominal TEI-1 duration (periapsis at the planned middle of TEI-2) and TEI-2 burn."""
    tei1_et, tei2_et = cfg.tei1_et, cfg.tei2_et
    t_mid = tei2_et + 0.5 * cfg.plan.tei_2.duration_guess_s
    d1, _ = rt.solve_tei1(start, tei1_et, cfg.tei1_engine, cfg.plan.tei_1.duration_guess_s, t_mid, models)
    tei1 = FiniteBurn(tei1_et, d1, cfg.tei1_engine.total_thrust_n, cfg.tei1_engine.isp_s, "prograde")
    s2 = rt.fly(start, tei2_et, models, [tei1]).final_state
    aim = _departure_for(cfg, s2, models, t_mid)
    x2, tei2, geo = _solve_tei2(cfg, s2, models, aim, _tei2_guess(cfg, s2, models, aim))
    return TeiPlan(tei1, tei2, x2, aim, geo, s2)


def _as_planned(flown: SpacecraftState, planned: SpacecraftState) -> bool:
    """True when the flown state is the planned one (same epoch, within 1 mm, 1 µm/s and 1 g)."""
    return (flown.et == planned.et and np.linalg.norm(flown.r - planned.r) < 1e-3
            and np.linalg.norm(flown.v - planned.v) < 1e-6 and abs(flown.mass - planned.mass) < 1e-3)


def _solve_tei2(cfg, s2, models, aim, x0):
    burn, geo, sol = rt.solve_tei2(s2, cfg.tei2_engine, x0, cfg.entry_target(), models, aim=aim)
    return sol.x, burn, geo


def _replan_tei2(cfg: ReturnProblem, s2: SpacecraftState, models: PatchedModels, plan: TeiPlan) -> FiniteBurn:
    """TEI-2 re-targeted from the flown post-TEI-1 state ``s2``: the EI residuals alone (stage C of
    :func:`~guanghan.gnc.return_targeting.solve_tei2`) from the planned unknowns, which the
    small TEI-1 errors leave close to the answer; all three stages if that does not converge."""
    try:
        return rt.solve_tei2(s2, cfg.tei2_engine, plan.tei2_x, cfg.entry_target(), models)[0]
    except GuidanceFailure:
        return _solve_tei2(cfg, s2, models, plan.aim, plan.tei2_x)[1]


def _departure_for(cfg: ReturnProblem, s2: SpacecraftState, models: PatchedModels, t_mid: float):
    """The designed departure from the coast's altitude at ``t_mid`` (s), its plane turned about
    the asymptote onto the coast's orbit plane (so TEI-2 needs no plane change)."""
    coast = rt.fly(s2, t_mid, models).final_state
    alt = np.linalg.norm(coast.r) - moon_radius()
    args = (cfg.entry_target(), t_mid, alt, models, cfg.mid_downrange_km)
    dep = dd.departure(*args)
    n_hat = np.cross(coast.r, coast.v)
    theta = b_plane_angle_of_plane(dep.asymptote_j2000, n_hat / np.linalg.norm(n_hat))
    return dd.departure(*args, b_plane_angle_deg=theta, x_guess=dep.x)


def _tei2_guess(cfg: ReturnProblem, s2: SpacecraftState, models: PatchedModels, aim: dd.Departure):
    """(duration min, pitch, yaw deg): impulsive Δv at the design periapsis epoch from the coast to
    the designed departure hyperbola, as a fixed-direction finite burn."""
    coast = rt.fly(s2, aim.et, models).final_state
    dv = aim.v_moon_j2000 - coast.v
    eng = cfg.tei2_engine
    minutes = burn_duration(s2.mass, float(np.linalg.norm(dv)), eng.total_thrust_n, eng.isp_s) / 60.0
    return (minutes, *angles_from_direction(vnb_axes(s2.r, s2.v), dv))


def fly_return(config: ReturnProblem, start: SpacecraftState, plan: TeiPlan | None = None) -> ReturnResult:
    """Plan and fly the return from ``start`` (Moon-centred J2000, before TEI-1) to the EI.

    With ``plan`` (a stored :class:`TeiPlan`, e.g. of the nominal mission) the TEI burns are not
    designed again: TEI-1 is flown as planned on the configuration's engine, and TEI-2 is
    re-targeted from the flown orbit whenever that differs from the planned one."""
    wall = time.perf_counter()
    tei1_et = config.tei1_et
    if start.body != "MOON" or start.frame != "J2000" or start.et >= tei1_et:
        raise InputError("must be a Moon-centred J2000 state before TEI-1", quantity="start",
                         value=f"{start.body}/{start.frame} at {start.utc}")
    models = config.models()
    errs = config.plan.execution_errors
    n_mcc = len(config.plan.midcourse.utc)
    draws = error_draws(errs, ["tei1", "tei2", *(f"mcc{i}" for i in range(1, n_mcc + 1)), "divert"])
    start = start.with_mass(config.stack_mass_kg)
    if plan is None:
        plan = plan_tei(config, start, models)
    eng1, eng2 = config.tei1_engine, config.tei2_engine
    tei1 = replace(plan.tei1, thrust_n=eng1.total_thrust_n, isp_s=eng1.isp_s)
    planned_m0 = plan.tei2_state.mass + plan.tei1.duration_s * plan.tei1.thrust_n / (plan.tei1.isp_s * G0)
    if abs(start.mass - planned_m0) > 1e-6:
        # a stack of another mass burns to the planned Δv (Tsiolkovsky, Curtis eq. 11.30), as the
        # accelerometer cut-off flies it, not for the planned duration
        dv = delta_v_from_masses(planned_m0, plan.tei2_state.mass, plan.tei1.isp_s)
        tei1 = replace(tei1, duration_s=burn_duration(start.mass, dv, eng1.total_thrust_n, eng1.isp_s))
    tei2 = replace(plan.tei2, thrust_n=eng2.total_thrust_n, isp_s=eng2.isp_s)
    geo_plan = plan.entry
    target = config.entry_target(geo_plan.et)           # MCCs re-target the planned EI epoch
    events, figures, burns, legs = [], {}, {}, []

    tei1_parts = tracked_tilt(tei1, errs, draws["tei1"],
                              rt.fly(start, tei1.end_et + 1.0, models, [tei1]).legs[0].trajectory)
    f1 = rt.fly(start, tei2.start_et, models, tei1_parts)
    s2 = f1.final_state
    if len(tei1_parts) > 1 or tei1_parts[0] != tei1 or not _as_planned(s2, plan.tei2_state):
        # TEI-2 re-planned from the flown orbit (or its re-plan from this same orbit flown again)
        again = plan.tei2_replanned
        if again is None or plan.tei2_replanned_from is None or not s2.close_to(plan.tei2_replanned_from) \
                or (again.thrust_n, again.isp_s) != (eng2.total_thrust_n, eng2.isp_s):
            again = _replan_tei2(config, s2, models, plan)
        tei2 = again
        plan = replace(plan, tei2_replanned=tei2, tei2_replanned_from=s2)
    tei2_x = dispersed(tei2, errs, draws["tei2"], s2.mass)
    burns.update(tei1=tei1_parts[0], tei2=tei2_x)
    burns.update({f"tei1_pointing{k}": b for k, b in enumerate(tei1_parts[1:], start=1)})
    legs += f1.legs
    state, pending = s2, [tei2_x]
    mcc_dv = []
    for i, mcc_et in enumerate(config.mcc_ets, start=1):
        f = rt.fly(state, mcc_et, models, pending)
        legs += f.legs
        if f.soi_exit is not None:
            _add(events, f.soi_exit.et, "soi_exit", distance_km=np.linalg.norm(f.soi_exit.r) / 1e3)
        state = f.final_state
        burn, dv, _ = rt.solve_mcc(state, config.mcc_engine, target, models, geo_plan.r_j2000)
        burn = dispersed(burn, errs, draws[f"mcc{i}"], state.mass) if burn else None
        pending = [burn] if burn else []
        mcc_dv.append(float(np.linalg.norm(dv)))
        burns[f"mcc{i}"] = burn
        _add(events, state.et, f"mcc{i}", delta_v_m_s=mcc_dv[-1],
             duration_s=burn.duration_s if burn else 0.0)
    sep_det = geodetic_altitude(config.plan.separation.altitude_km * 1e3, "separation")
    f = rt.fly(state, target.et + 86400.0, models, pending, sep_det)
    legs += f.legs
    if f.soi_exit is not None:
        _add(events, f.soi_exit.et, "soi_exit", distance_km=np.linalg.norm(f.soi_exit.r) / 1e3)
    if f.stop is None:
        raise GuidanceFailure("trans_earth", "the stack never descends to the separation altitude")
    sep = f.final_state
    sep_geo = entry_geometry(sep.et, sep.r, sep.v, config.site_lat_deg, config.site_lon_deg)
    _add(events, sep.et, "separation", altitude_km=config.plan.separation.altitude_km,
         lat_deg=sep_geo.lat_deg, lon_deg=sep_geo.lon_deg)

    returner = sep.with_mass(config.returner_mass_kg)
    geo, fr = rt.predict_entry(returner, models, [], target)
    legs += fr.legs
    orbiter_legs, divert, perigee_km = fly_divert(config, sep.with_mass(sep.mass - config.returner_mass_kg),
                                               models, events, draws["divert"])
    burns["divert"] = divert

    _log_tei(events, f1, tei1_parts[0], legs, tei2_x)
    _add(events, geo.et, "entry_interface", altitude_km=geo.altitude_km, fpa_deg=geo.fpa_relative_deg,
         speed_m_s=geo.speed_inertial_m_s)
    events.sort(key=lambda e: e["et"])
    dv1 = _mass_dv(f1, tei1_parts[0], config.tei1_engine.isp_s)
    dv2 = delta_v_from_masses(*_masses(legs, tei2_x), tei2_x.isp_s)
    figures.update({
        "tei1.duration_s": tei1_parts[0].duration_s, "tei2.duration_s": tei2_x.duration_s,
        "tei1.delta_v_m_s": dv1, "tei2.delta_v_m_s": dv2, "tei.delta_v_m_s": dv1 + dv2,
        "return.mcc_delta_v_m_s": float(sum(mcc_dv)),
        **{f"mcc{i}.delta_v_m_s": d for i, d in enumerate(mcc_dv, start=1)},
        "return.transfer_time_h": (geo.et - (tei2_x.start_et + 0.5 * tei2_x.duration_s)) / 3600.0,
        "entry.interface_utc": time_scales.et_to_utc(geo.et),
        "entry.interface_speed_m_s": geo.speed_inertial_m_s,
        "entry.interface_relative_speed_m_s": geo.speed_relative_m_s,
        "entry.interface_fpa_deg": geo.fpa_relative_deg,
        "entry.interface_fpa_inertial_deg": geo.fpa_inertial_deg,
        "entry.interface_lat_deg": geo.lat_deg, "entry.interface_lon_deg": geo.lon_deg,
        "entry.interface_azimuth_deg": geo.azimuth_relative_deg,
        "entry.crossrange_km": geo.crossrange_km, "entry.downrange_km": geo.downrange_km,
        "entry.planned_interface_utc": time_scales.et_to_utc(geo_plan.et),
        "separation.utc": time_scales.et_to_utc(sep.et),
        "separation.lat_deg": sep_geo.lat_deg, "separation.lon_deg": sep_geo.lon_deg,
        "separation.altitude_km": sep_geo.altitude_km,
        "orbiter.divert_duration_s": divert.duration_s,
        "orbiter.perigee_altitude_km": perigee_km,
        "return.final_orbiter_mass_kg": float(orbiter_legs[-1].trajectory.final_state[6]),
        **_orbit_figures(start, models, legs, tei1_parts[0], tei2_x),
        "return.wall_time_s": time.perf_counter() - wall,
    })
    if config.plan.tei_2.published_duration_s is not None:
        figures["tei2.implied_stack_mass_kg"] = mass_for_burn(
            dv2, config.plan.tei_2.published_duration_s, config.tei2_engine.total_thrust_n, config.tei2_engine.isp_s)
    return ReturnResult(geo.et, geo.r_j2000, geo.v_j2000, [leg.trajectory for leg in legs],
                        [leg.trajectory for leg in orbiter_legs], events, figures, geo, burns, plan)


def _orbit_figures(start: SpacecraftState, models: PatchedModels, legs, tei1: FiniteBurn,
                   tei2: FiniteBurn) -> dict:
    """Parking orbit (mean altitude over the mean sphere over one revolution of the unburnt orbit
    from ``start``, inclination to the lunar equator), osculating perilune altitude just after
    TEI-1, and altitude at the middle of TEI-2 (km over the mean sphere)."""
    radius, mu = moon_radius(), models.moon.central.mu
    period = 2 * math.pi * math.sqrt(np.linalg.norm(start.r) ** 3 / mu)
    _, ys = propagate(start, start.et + period, models.moon, models.tolerances).trajectory.sample(60.0)

    def moon_state(et):
        traj = next(leg.trajectory for leg in legs if leg.trajectory.body == "MOON"
                    and leg.trajectory.start_et <= et <= leg.trajectory.end_et)
        return SpacecraftState.from_vector(et, traj.states([et])[0])

    rp, _ = conic_periapsis(moon_state(tei1.end_et), mu)
    mid = moon_state(tei2.start_et + 0.5 * tei2.duration_s)
    return {"parking_orbit.altitude_km": float(np.mean(np.linalg.norm(ys[:, :3], axis=1)) - radius) / 1e3,
            "parking_orbit.inclination_deg": inclination_deg(start),
            "tei1.perilune_altitude_km": (rp - radius) / 1e3,
            "tei2.altitude_km": float(np.linalg.norm(mid.r) - radius) / 1e3}


def _masses(legs, burn: FiniteBurn):
    for leg in legs:
        t = leg.trajectory
        if t.start_et <= burn.start_et and burn.end_et <= t.end_et:
            return tuple(t.states([burn.start_et, burn.end_et])[:, 6])
    raise ValueError("burn not inside one leg")


def _log_tei(events, f1, tei1, legs, tei2):
    for name, b in (("tei1", tei1), ("tei2", tei2)):
        _add(events, b.start_et, f"{name}_start", thrust_n=b.thrust_n, isp_s=b.isp_s)
        _add(events, b.end_et, f"{name}_end", duration_s=b.duration_s)
