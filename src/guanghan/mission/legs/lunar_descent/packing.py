"""Packing of a flown descent into the leg's :class:`~guanghan.mission.leg.PhaseResult`: events,
summary keys (``descent.*``, ``lunar_landing.*``, ``<phase>.*``), trajectory table, series
(``descent``, ``hazard_map``, ``orbiter``), the final state on the surface and the module masses.

The final state is the touchdown point at rest on the rotating Moon (zero velocity in MOON_ME),
expressed in Moon-centred J2000. The touchdown is judged on the TRUE synthetic terrain with
:func:`guanghan.gnc.hazard_detection.check_site`; a touchdown outside the mapped hover area is not
judged (``lunar_landing.hazard_free`` false, the reason in the event).

Assumptions and limitations
    * ``lunar_landing.miss_m`` is the great-circle distance on the site's sphere from the
      scenario's site (the aim point, e.g. the LROC coordinates) to the touchdown: it measures the
      navigation error and the hazard divert, not a reconstruction of the real landing.
    * ``descent.propellant_kg`` and ``descent.delta_v_m_s`` are the powered descent's; the
      lowering burns are in ``descent.lowering_*`` and both in ``descent.total_*``.
    * The remaining vehicle's final state is in the series ``orbiter`` (last row), in
      ``meta["remaining_vehicle_state"]`` and in ``vehicle_states``, through which the runner hands
      it to later legs (a rendezvous picks the orbiter up there).

References
    See :mod:`guanghan.gnc.hazard_detection` (Johnson et al. 2002, plane fit over the footprint)
    and :mod:`guanghan.mission.trajectory_table`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.dynamics import events as ev
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, time_scales
from guanghan.environment.geodetic import MOON_MEAN_RADIUS, great_circle_distance
from guanghan.environment.lunar_dem import TerrainError
from guanghan.gnc.hazard_detection import check_site
from guanghan.mission.force_model_builder import lunar_force_model
from guanghan.mission.leg import PhaseResult
from guanghan.mission.trajectory_table import build_table

#: integration tolerances of the orbital arcs (design and flight)
TOLERANCES = Tolerances(rtol=1e-10, atol_m=1e-3, max_step_s=600.0)
#: sampling of the descent in the trajectory table and its series (s)
DESCENT_STEP_S = 1.0
#: powered-descent events passed on under their own names
_EVENTS = ("powered_descent_start", "braking_end", "approach_plan", "divert_start",
           "vertical_descent_start", "engine_cutoff", "touchdown", "propellant_exhausted",
           "guidance_replan_failed", "guidance_min_landing_error")


def orbit_table(name: str, traj, step_s: float) -> pa.Table:
    """Trajectory rows of an orbital arc, at most 60 s apart (low orbits keep their shape)."""
    ets, states = traj.sample(min(step_s, 60.0))
    return build_table(name, "MOON", ets, states)


def _remaining(phase, ctx, s, end_et: float) -> tuple[pa.Table, SpacecraftState]:
    """The vehicle left in orbit, from the separation to ``end_et``."""
    state = ctx.previous.to_frame("J2000").with_mass(s.remaining_kg)
    model = lunar_force_model(ctx.scenario, phase.remaining_vehicle)
    surface = ev.altitude(0.0, MOON_MEAN_RADIUS, terminal=True, name="surface")
    traj = propagate(state, end_et, model, TOLERANCES, [surface]).trajectory
    final = SpacecraftState.from_vector(traj.end_et, traj.final_state)
    return orbit_table(f"{phase.name}_orbiter", traj, phase.output_step_s), final


def _keep(t: np.ndarray, phase: np.ndarray, step: float) -> np.ndarray:
    """Row indices about ``step`` s apart, plus every phase change and the last row."""
    bins = np.floor(t / step)
    keep = np.r_[True, bins[1:] != bins[:-1]] | np.r_[True, phase[1:] != phase[:-1]]
    keep[-1] = True
    return np.nonzero(keep)[0]


def _descent_series(res, idx) -> pa.Table:
    sr = res.series
    p = sr["position_m"][idx]
    return pa.table({
        "t_s": sr["t_s"][idx], "et_s": sr["et"][idx],
        "utc": time_scales.et_to_utc(sr["et"][idx]), "phase": sr["phase"][idx].astype(str),
        "east_m": p[:, 0], "north_m": p[:, 1], "height_m": sr["height_m"][idx],
        "speed_horizontal_m_s": sr["speed_horizontal_m_s"][idx],
        "speed_vertical_m_s": sr["speed_vertical_m_s"][idx], "throttle": sr["throttle"][idx],
        "tilt_deg": sr["tilt_deg"][idx], "mass_kg": sr["mass_kg"][idx],
        "nav_error_m": sr["nav_error_m"][idx],
        "nav_velocity_error_m_s": sr["nav_velocity_error_m_s"][idx]})


def _descent_table(name: str, res, idx) -> pa.Table:
    sr, fr = res.series, res.site_frame
    ets = sr["et"][idx]
    r_me = (sr["position_m"][idx] - fr.centre) @ fr.me_from_enu.T
    v_me = sr["velocity_m_s"][idx] @ fr.me_from_enu.T
    x = frames.transform_states(np.hstack([r_me, v_me]), "MOON_ME", "J2000", ets)
    return build_table(name, "MOON", ets, np.column_stack([x, sr["mass_kg"][idx]]))


def _events(log, name: str, res, hda, coarse) -> None:
    sr = res.series
    ph = sr["phase"]
    for i in np.nonzero(ph[1:] != ph[:-1])[0] + 1:
        log.add(float(sr["et"][i]), name, "descent_phase_change",
                {"from": str(ph[i - 1]), "to": str(ph[i]), "height_m": float(sr["height_m"][i])})
    for e in res.events:
        details = {k: v for k, v in e.items() if k not in ("name", "et")}
        if e["name"] == "hazard_site_chosen" and hda.result is not None:
            r = hda.result
            log.add(e["et"], name, "hazard_map_ready", {
                "sun_elevation_deg": hda.sun[0], "sun_azimuth_deg": hda.sun[1],
                "hazard_fraction": float(np.mean(r.hazard)), "safe_fraction": float(np.mean(r.safe)),
                "safe_site_found": r.safe_site_found})
            log.add(e["et"], name, "divert_chosen", {
                "east_m": r.chosen_x_m, "north_m": r.chosen_y_m,
                "distance_from_aim_m": r.distance_from_aim_m, "sensed_slope_deg": r.chosen_slope_deg,
                "sensed_roughness_m": r.chosen_roughness_m})
        elif e["name"] == "approach_site_chosen" and coarse is not None and coarse.result is not None:
            log.add(e["et"], name, "approach_hazard_map_ready", {
                "sun_elevation_deg": coarse.sun[0], "sun_azimuth_deg": coarse.sun[1],
                "ground_sample_distance_m": coarse.gsd_m, "height_m": e["height_m"],
                "hazard_fraction": coarse.figures["hazard_fraction"]})
            log.add(e["et"], name, "approach_site_chosen", {
                "east_m": e["east_m"], "north_m": e["north_m"],
                "retarget_m": coarse.figures["retarget_m"],
                "safe_area_fraction": coarse.figures["score"],
                "safe_area_fraction_at_aim": coarse.figures["aim_score"]})
        elif e["name"] in _EVENTS:
            log.add(e["et"], name, e["name"], details)


def pack(phase, ctx, s, log, start, low, res, hda, coarse, summary: dict) -> PhaseResult:
    """The PhaseResult of a flown descent (successful or not); ``coarse``: the approach's
    hazard avoidance, or None when the scenario has none."""
    name, f, sr = phase.name, res.figures, res.series
    _events(log, name, res, hda, coarse)
    idx = _keep(sr["t_s"], sr["phase"], DESCENT_STEP_S)
    table = pa.concat_tables([orbit_table(name, low.trajectory, phase.output_step_s),
                              _descent_table(name, res, idx[1:])])
    end_et = float(sr["et"][-1])
    orbiter, orbiter_final = _remaining(phase, ctx, s, end_et)
    pdi_mass = low.state_pdi.mass
    m_end = float(f["final_mass_kg"])
    used_total = start.mass - m_end
    hover = sr["phase"] == "hover"
    summary.update({
        "descent.duration_s": f["duration_s"], "descent.propellant_kg": f["propellant_kg"],
        "descent.delta_v_m_s": f["delta_v_m_s"],
        "descent.divert_m": f["divert_distance_m"],
        "descent.total_propellant_kg": used_total,
        "descent.total_delta_v_m_s": delta_v_from_masses(start.mass, m_end, s.engine.isp_s),
        "descent.propellant_margin_kg": s.budget_kg - used_total,
        "descent.start_terrain_clearance_km": s.start_clearance_km,
        f"{name}.start_mass_kg": pdi_mass,
        f"{name}.propellant_estimate_kg": f["propellant_estimate_kg"],
        f"{name}.nav_error_final_m": f["nav_error_final_m"],
        f"{name}.nav_error_max_m": f["nav_error_max_m"],
        f"{name}.guidance_solves_count": f["guidance_solves"],
        f"{name}.remaining_vehicle_final_utc": time_scales.et_to_utc(orbiter_final.et)})
    if hover.any():
        summary["descent.hover_altitude_m"] = float(np.median(sr["height_m"][hover]))
    final = start
    if "touchdown_latitude_deg" in f:
        lat, lon = f["touchdown_latitude_deg"], f["touchdown_longitude_deg"]
        judged = _judge(hda.terrain, f["touchdown_east_m"], f["touchdown_north_m"], phase.hazard)
        summary.update({
            "lunar_landing.utc": time_scales.et_to_utc(end_et),
            "lunar_landing.lat_deg": lat, "lunar_landing.lon_deg": lon,
            "lunar_landing.miss_m": float(great_circle_distance(
                *np.radians([lat, lon, s.site.lat_deg, s.site.lon_deg]), s.radius_m)),
            "lunar_landing.touchdown_speed_m_s": float(np.hypot(
                f["touchdown_vertical_speed_m_s"], f["touchdown_horizontal_speed_m_s"])),
            "lunar_landing.slope_deg": judged.slope_deg if judged else None,
            "lunar_landing.hazard_free": bool(judged.safe) if judged else False,
            "lunar_landing.mass_kg": m_end,
            f"{name}.touchdown_vertical_speed_m_s": f["touchdown_vertical_speed_m_s"],
            f"{name}.touchdown_horizontal_speed_m_s": f["touchdown_horizontal_speed_m_s"],
            f"{name}.miss_from_chosen_site_m": f["miss_from_site_m"],
            f"{name}.max_rock_height_m": judged.max_rock_height_m if judged else None})
        log.add(end_et, name, "landing_site_check", {
            "slope_deg": judged.slope_deg if judged else None,
            "hazard_free": bool(judged.safe) if judged else False,
            "reasons": list(judged.reasons) if judged else ["touchdown outside the mapped hover area"]})
        p = sr["position_m"][-1]
        me = SpacecraftState(end_et, res.site_frame.me_from_enu @ (p - res.site_frame.centre),
                             np.zeros(3), m_end, "MOON_ME")
        final = me.to_frame("J2000")
    series = {"descent": _descent_series(res, idx), "orbiter": orbiter}
    if hda.result is not None:
        series["hazard_map"] = hda.map_table()
        summary[f"{name}.hazard_site_east_m"] = hda.result.chosen_x_m
        summary[f"{name}.hazard_site_north_m"] = hda.result.chosen_y_m
        summary[f"{name}.safe_site_found"] = hda.result.safe_site_found
    if coarse is not None and coarse.result is not None:
        series["approach_hazard_map"] = coarse.map_table()
        summary.update({"descent.approach_retarget_m": coarse.figures["retarget_m"],
                        f"{name}.approach_site_east_m": coarse.chosen[0],
                        f"{name}.approach_site_north_m": coarse.chosen[1],
                        f"{name}.approach_ground_sample_distance_m": coarse.gsd_m,
                        f"{name}.approach_safe_area_fraction": coarse.figures["score"],
                        f"{name}.approach_safe_area_fraction_at_aim": coarse.figures["aim_score"]})
    meta = {"force_model": lunar_force_model(ctx.scenario, phase.vehicle).describe(),
            "descent_wall_s": f["wall_time_s"],
            "remaining_vehicle_state": {"vehicle": phase.remaining_vehicle, "et_s": orbiter_final.et,
                                        "r_m": orbiter_final.r.tolist(),
                                        "v_m_s": orbiter_final.v.tolist(),
                                        "mass_kg": orbiter_final.mass, "frame": "J2000",
                                        "body": "MOON"}}
    masses = {s.module: ctx.masses[s.module] - used_total}
    return PhaseResult(name, final, log, summary, table, meta, series=series,
                       aborted=None if res.success else res.failure_reason, module_masses=masses,
                       leg_type=phase.type,
                       vehicle_states={phase.remaining_vehicle: orbiter_final.to_frame("J2000")})


def _judge(terrain, x: float, y: float, cfg):
    """check_site on the true terrain, or None when the footprint leaves the mapped area."""
    try:
        return check_site(terrain, x, y, cfg.footprint_diameter_m, cfg.clearance_m,
                          cfg.slope_limit_deg)
    except TerrainError:
        return None
