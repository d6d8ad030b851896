"""Packing of a flown ascent into the leg's :class:`~guanghan.mission.leg.PhaseResult`: events
(lift-off, the guidance phases, cut-off, each launch window), summary keys (``ascent.*``,
``<phase>.*``), the trajectory table (MOON_ME truth → J2000), the series ``ascent`` and
``launch_windows``, the insertion state and the engine module's mass.

``ascent.ground_loop_failure_rate`` and ``ascent.onboard_failure_rate`` are the failed fraction of
the dispersed runs of each loop (same seeds); ``*_apoapsis_error_rms_km`` their insertion spread
about the target.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.environment import frames, time_scales
from guanghan.mission.leg import PhaseResult
from guanghan.mission.trajectory_table import build_table

_SERIES = ("t_s", "altitude_m", "downrange_km", "latitude_deg", "longitude_deg", "speed_inertial_m_s",
           "speed_relative_m_s", "pitch_deg", "yaw_deg", "throttle", "mass_kg", "terrain_clearance_m",
           "nav_error_m", "nav_velocity_error_m_s")
#: sampling of the ascent in the trajectory table and the series (s)
STEP_S = 2.0


def _keep(t: np.ndarray, step: float) -> np.ndarray:
    bins = np.floor(t / step)
    keep = np.r_[True, bins[1:] != bins[:-1]]
    keep[-1] = True
    return np.nonzero(keep)[0]


def _series_table(res, idx) -> pa.Table:
    sr = res.series
    cols = {k: np.asarray(sr[k])[idx] for k in _SERIES}
    cols["utc"] = time_scales.et_to_utc(np.asarray(sr["et"])[idx])
    cols["phase"] = np.asarray(sr["phase"])[idx].astype(str)
    return pa.table(cols)


def _trajectory(name: str, res, idx) -> pa.Table:
    sr = res.series
    ets = np.asarray(sr["et"])[idx]
    me = np.hstack([np.asarray(sr["r_me_m"])[idx], np.asarray(sr["v_me_m_s"])[idx]])
    x = frames.transform_states(me, "MOON_ME", "J2000", ets)
    return build_table(name, "MOON", ets, np.column_stack([x, np.asarray(sr["mass_kg"])[idx]]))


def _windows_table(windows) -> pa.Table:
    return pa.table({
        "utc": [w.utc for w in windows], "et_s": np.array([w.et for w in windows], float),
        "crossing": [bool(w.crossing) for w in windows],
        "out_of_plane_deg": np.array([w.out_of_plane_deg for w in windows], float),
        "phase_angle_deg": np.array([w.phase_angle_deg for w in windows], float),
        "plane_change_dv_m_s": np.array([w.plane_change_dv_m_s for w in windows], float)},
        schema=pa.schema([("utc", pa.string()), ("et_s", pa.float64()), ("crossing", pa.bool_()),
                          ("out_of_plane_deg", pa.float64()), ("phase_angle_deg", pa.float64()),
                          ("plane_change_dv_m_s", pa.float64())]))


def comparison_figures(phase, s, comparison) -> dict:
    """Summary figures of the ground-loop comparison (failure rates, insertion errors) or, without
    one, the rates as None."""
    if comparison is None:
        return {"ascent.ground_loop_failure_rate": None, "ascent.onboard_failure_rate": None}
    tgt = phase.target
    out = {"ascent.ground_loop_delay_s": s.round_trip_s + phase.ground_loop.reaction_s,
           f"{phase.name}.dispersed_runs_count": comparison["runs"]}
    for key in ("onboard", "ground"):
        runs = comparison[key]
        failed = sum(not r.success for r in runs)
        label = "ground_loop" if key == "ground" else "onboard"
        out[f"ascent.{label}_failure_rate"] = failed / len(runs)
        if tgt.apoapsis_altitude_km is not None:
            ok = [r for r in runs if r.success]
            if ok:
                err = np.array([r.apoapsis_altitude_km - tgt.apoapsis_altitude_km for r in ok])
                out[f"ascent.{label}_apoapsis_error_rms_km"] = float(np.sqrt(np.mean(err ** 2)))
                err = np.array([r.periapsis_altitude_km - tgt.periapsis_altitude_km for r in ok])
                out[f"ascent.{label}_periapsis_error_rms_km"] = float(np.sqrt(np.mean(err ** 2)))
    return out


def pack(phase, ctx, s, log, res, windows, study: dict) -> PhaseResult:
    """The PhaseResult of a flown ascent (it reached a cut-off)."""
    name = phase.name
    t = np.asarray(res.series["t_s"])
    idx = _keep(t, STEP_S)
    log.add(s.et, name, "liftoff", {"mass_kg": s.mass_kg, "lat_deg": s.lat, "lon_deg": s.lon})
    for e in res.events:
        details = {k: v for k, v in e.items() if k not in ("name", "et")}
        log.add(float(e["et"]), name, str(e["name"]), details)
    for k, w in enumerate(windows):
        log.add(w.et, name, "launch_window", {"index": k, "crossing": w.crossing,
                                              "out_of_plane_deg": w.out_of_plane_deg,
                                              "phase_angle_deg": w.phase_angle_deg})
    log.records.sort(key=lambda r: r["et_s"])
    ins = res.insertion_state
    summary = {
        "ascent.liftoff_utc": time_scales.et_to_utc(s.et),
        "ascent.cutoff_utc": time_scales.et_to_utc(ins.et),
        "ascent.burn_time_s": res.burn_time_s, "ascent.delta_v_m_s": res.delta_v_m_s,
        "ascent.propellant_kg": res.propellant_kg,
        "ascent.insertion_periapsis_km": res.periapsis_altitude_km,
        "ascent.insertion_apoapsis_km": res.apoapsis_altitude_km,
        "ascent.insertion_inclination_deg": res.inclination_deg,
        "ascent.plane_error_deg": res.figures.get("plane_error_deg"),
        "ascent.min_terrain_clearance_beyond_5_km_m": res.figures.get("min_terrain_clearance_beyond_5_km_m"),
        "ascent.nav_error_at_cutoff_m": res.figures.get("nav_error_final_m"),
        "ascent.propellant_margin_kg": s.propellant_kg - res.propellant_kg,
        f"{name}.liftoff_lat_deg": s.lat, f"{name}.liftoff_lon_deg": s.lon,
        f"{name}.launch_windows_count": len(windows),
        "ascent.target_plane_offset_deg": s.plane_offset_deg,
    }
    if windows:
        nearest = min(windows, key=lambda w: abs(w.et - s.et))
        summary[f"{name}.nearest_window_offset_min"] = (nearest.et - s.et) / 60.0
        summary[f"{name}.nearest_window_phase_angle_deg"] = nearest.phase_angle_deg
    summary.update(study)
    series = {"ascent": _series_table(res, idx)}
    if windows:
        series["launch_windows"] = _windows_table(windows)
    final = ins.to_frame("J2000")
    meta = {"force_model": f"site-fixed RK4, lunar field to degree {phase.truth_gravity_degree}",
            "ascent_wall_s": res.figures.get("wall_time_s")}
    masses = {s.module: ctx.masses[s.module] - res.propellant_kg}
    return PhaseResult(name, final, log, summary, _trajectory(name, res, idx), meta, series=series,
                       aborted=None if res.success else res.failure_reason, module_masses=masses,
                       leg_type=phase.type)
