"""Packing of a surface stay into the leg's :class:`~guanghan.mission.leg.PhaseResult`: events (each
step's start and end, each link window), summary keys (``surface.*``, ``comms.*``, ``flag.*``,
``<phase>.*``), the lander's trajectory on the rotating Moon, series (``conditions``, ``timeline``,
``links``, ``relay_orbit``, ``flag``) and the sample module's mass.

Definitions
    * ``surface.duration_h``: touchdown to lift-off.
    * ``surface.sampling_duration_h``: start of drilling to the end of the container's sealing.
    * ``comms.direct_visibility_fraction``: share of the stay with a direct link (Earth above the
      site's mask and DEM horizon, a ground station seeing the Moon).
    * ``comms.relay_coverage_fraction``: share of the stay with the site–relay–station chain
      (0 without a relay).
    * ``comms.data_volume_mbit``: summed over the windows of every link that has a budget.
    * ``comms.light_time_s``: mean one-way light time site → Earth's centre over the stay.
    * ``flag.*``: the deployed item named ``flag``; every item also has
      ``<phase>.<item>_temp_max_k`` etc.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.environment import frames, spice_kernels, time_scales
from guanghan.mission.leg import PhaseResult
from guanghan.mission.trajectory_table import build_table, utc_timestamps

_H = 3600.0


def _utc(ets) -> list[str]:
    return list(time_scales.et_to_utc(np.asarray(ets, float)))


def _conditions_table(stay, cond, links) -> pa.Table:
    utc = _utc(cond.ets)
    vis = {ls.kind: np.interp(cond.ets, ls.ets, ls.visible.astype(float)) > 0.5 for ls in links}
    return pa.table({
        "epoch": utc_timestamps(utc), "utc": utc, "t_h": (cond.ets - stay.t0) / _H,
        "sun_elevation_deg": cond.sun_elevation_deg, "sun_azimuth_deg": cond.sun_azimuth_deg,
        "earth_elevation_deg": cond.earth_elevation_deg, "regolith_temp_k": cond.regolith_temp_k,
        "lander_temp_k": cond.lander_temp_k,
        "direct_visible": vis.get("direct", np.zeros(cond.ets.size, bool)),
        "relay_visible": vis.get("relay", np.zeros(cond.ets.size, bool))})


def _timeline_table(stay, timeline) -> pa.Table:
    t = timeline.tasks
    starts = np.array([x.start_s for x in t], float)
    ends = np.array([x.end_s for x in t], float)
    return pa.table({
        "task": [x.name for x in t], "kind": [x.kind for x in t],
        "start_h": starts / _H, "end_h": ends / _H,
        "start_utc": _utc(stay.t0 + starts), "end_utc": _utc(stay.t0 + ends),
        "needs_confirmation": [bool(x.needs_confirmation) for x in t],
        "window_index": pa.array([-1 if x.window_index is None else int(x.window_index) for x in t], pa.int64())})


def _links_table(stay, links) -> pa.Table:
    rows = [(ls.kind, s, e, v, r) for ls in links for (s, e), v, r in zip(ls.windows, ls.volumes_mbit,
                                                                            ls.mean_rates_bps)]
    s = np.array([r[1] for r in rows], float)
    e = np.array([r[2] for r in rows], float)
    return pa.table({
        "kind": [r[0] for r in rows], "start_h": (s - stay.t0) / _H, "end_h": (e - stay.t0) / _H,
        "start_utc": _utc(s) if rows else [], "end_utc": _utc(e) if rows else [],
        "data_volume_mbit": np.array([r[3] for r in rows], float),
        "mean_rate_kbit_s": np.array([r[4] for r in rows], float) / 1e3},
        schema=pa.schema([("kind", pa.string()), ("start_h", pa.float64()), ("end_h", pa.float64()),
                          ("start_utc", pa.string()), ("end_utc", pa.string()),
                          ("data_volume_mbit", pa.float64()), ("mean_rate_kbit_s", pa.float64())]))


def _relay_table(stay, relay) -> pa.Table:
    ets, pos = relay.ets, relay.extra["relay_positions_j2000_m"]
    to_me = frames.rotation("J2000", "MOON_ME", ets)
    me = np.einsum("nij,nj->ni", to_me, pos) / 1e3
    earth = spice_kernels.body_positions("EARTH", "MOON", "MOON_ME", ets)
    earth /= np.linalg.norm(earth, axis=1)[:, None]
    return pa.table({"t_h": (ets - stay.t0) / _H, "x_km": me[:, 0], "y_km": me[:, 1], "z_km": me[:, 2],
                     "earth_x": earth[:, 0], "earth_y": earth[:, 1], "earth_z": earth[:, 2]})


def _items_table(items) -> pa.Table:
    names, t_d, temp = [], [], []
    for item, res in items:
        names += [item.name] * res.ets.size
        t_d.append((res.ets - res.ets[0]) / 86_400.0)
        temp.append(res.temp_k)
    return pa.table({"item": names, "t_d": np.concatenate(t_d) if t_d else np.zeros(0),
                     "temp_k": np.concatenate(temp) if temp else np.zeros(0)})


def _events(log, name: str, stay, timeline, links) -> None:
    for x in timeline.tasks:
        log.add(stay.t0 + x.start_s, name, f"{x.name}_start", {
            "kind": x.kind, "needs_confirmation": bool(x.needs_confirmation),
            "link_window": None if x.window_index is None else int(x.window_index)})
        log.add(stay.t0 + x.end_s, name, f"{x.name}_end", {})
    for ls in links:
        for k, ((s, e), v) in enumerate(zip(ls.windows, ls.volumes_mbit)):
            log.add(s, name, f"{ls.kind}_link_window_open", {"index": k, "duration_h": (e - s) / _H,
                                                               "data_volume_mbit": v})
            log.add(e, name, f"{ls.kind}_link_window_close", {"index": k})
    log.records.sort(key=lambda r: r["et_s"])


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _summary(phase, stay, cond, links, hole, fill, timeline, items, rtt) -> dict:
    name = phase.name
    by = {ls.kind: ls for ls in links}
    drill_start = timeline.task("drill").start_s
    sealed = timeline.task("sealing").end_s
    ready = timeline.task("ascent_preparation").end_s + phase.operations.liftoff_margin_h * _H
    budgeted = [ls for ls in links if ls.kind == "relay" or phase.comms.direct_link is not None]
    out = {
        "surface.touchdown_utc": time_scales.et_to_utc(stay.t0),
        "surface.liftoff_utc": time_scales.et_to_utc(stay.t1),
        "surface.sun_elevation_at_landing_deg": float(cond.sun_elevation_deg[0]),
        "surface.sun_elevation_at_liftoff_deg": float(cond.sun_elevation_deg[-1]),
        "surface.duration_h": (stay.t1 - stay.t0) / _H,
        "surface.sampling_duration_h": (sealed - drill_start) / _H,
        "surface.sampling_complete_utc": time_scales.et_to_utc(stay.t0 + sealed),
        "surface.drill_sealed_utc": time_scales.et_to_utc(stay.t0 + timeline.task("core_packaging").end_s),
        "surface.drill_depth_m": hole.final_depth_m,
        "surface.drill_stop_reason": hole.stop_reason,
        "surface.drill_duration_h": hole.duration_s / _H,
        "surface.core_mass_g": hole.core_mass_kg * 1e3,
        "surface.scoop_cycles_count": fill.cycles,
        "surface.sample_mass_g": fill.total_kg * 1e3,
        "surface.sample_limited_by": fill.limited_by,
        "surface.regolith_temp_max_k": float(np.max(cond.regolith_temp_k)),
        "surface.regolith_temp_min_k": float(np.min(cond.regolith_temp_k)),
        "surface.lander_temp_max_k": float(np.max(cond.lander_temp_k)),
        "surface.operating_fraction": cond.operating_fraction,
        "surface.liftoff_earliest_utc": time_scales.et_to_utc(stay.t0 + ready),
        "surface.liftoff_slack_h": (stay.t1 - stay.t0 - ready) / _H,
        "surface.timeline_makespan_h": timeline.makespan_s / _H,
        "surface.timeline_status": timeline.status,
        "comms.light_time_s": float(np.mean(cond.light_time_s)),
        "comms.round_trip_s": rtt,
        "comms.direct_visibility_fraction": by["direct"].coverage_fraction,
        "comms.relay_coverage_fraction": by["relay"].coverage_fraction if "relay" in by else 0.0,
        "comms.data_volume_mbit": float(sum(np.nansum(ls.volumes_mbit) for ls in budgeted)),
        "comms.link_windows_count": sum(len(ls.windows) for ls in budgeted),
        "comms.relay_period_h": _finite(by["relay"].extra["period_s"] / _H) if "relay" in by else None,
        f"{name}.site_lat_deg": stay.site.lat_deg, f"{name}.site_lon_deg": stay.site.lon_deg,
        f"{name}.earth_elevation_mean_deg": float(np.mean(cond.earth_elevation_deg)),
    }
    for item, res in items:
        figures = {"temp_max_k": res.max_temp_k, "temp_min_k": res.min_temp_k,
                   "thermal_cycles": res.thermal_cycles, "survives": bool(res.within_limits),
                   "limit_min_k": item.min_temp_k, "limit_max_k": item.max_temp_k}
        for k, v in figures.items():
            out[f"{name}.{item.name}_{k}"] = v
            if item.name == "flag":
                out[f"flag.{k}"] = v
    return out


def pack(phase, ctx, stay, log, cond, links, hole, fill, timeline, items, final) -> PhaseResult:
    """The PhaseResult of a completed stay."""
    name = phase.name
    _events(log, name, stay, timeline, links)
    rtt = max(ls.round_trip_s for ls in links if ls.kind == "relay" or phase.comms.direct_link is not None)
    summary = _summary(phase, stay, cond, links, hole, fill, timeline, items, rtt)
    me = np.tile(np.r_[stay.site.position_m, 0.0, 0.0, 0.0], (cond.ets.size, 1))
    x = frames.transform_states(me, "MOON_ME", "J2000", cond.ets)
    mass = np.full(cond.ets.size, stay.mass_kg)
    mass[cond.ets >= stay.t0 + timeline.task("sealing").end_s] += fill.total_kg
    table = build_table(name, "MOON", cond.ets, np.column_stack([x, mass]))
    series = {"conditions": _conditions_table(stay, cond, links), "timeline": _timeline_table(stay, timeline),
              "links": _links_table(stay, links)}
    relay = [ls for ls in links if ls.kind == "relay"]
    if relay:
        series["relay_orbit"] = _relay_table(stay, relay[0])
    if items:
        series["flag"] = _items_table(items)
    meta = {"force_model": "lander at rest on the rotating Moon (MOON_ME)",
            "solver": timeline.solver, "timeline_wall_s": timeline.wall_s}
    module = phase.sample_module
    return PhaseResult(name, final, log, summary, table, meta, series=series,
                       module_masses={module: ctx.masses[module] + fill.total_kg}, leg_type=phase.type,
                       cargo_kg={module: ctx.cargo_kg.get(module, 0.0) + fill.total_kg})
