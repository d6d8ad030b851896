"""Packing of a rendezvous into the leg's :class:`~guanghan.mission.leg.PhaseResult`: events (each
phasing burn, the hand-over, the holding points, capture, sample transfer, undocking, deorbit,
impact), summary keys (``rendezvous.*``, ``disposal.*``, ``<phase>.*``), the chaser's trajectory
(phasing, then the docked stack), series (``proximity``: the target's Hill frame, truth, estimate
and 3σ; ``phasing_burns``; ``impact``), module masses and the cargo moved to the returner.

``rendezvous.delta_v_m_s`` is the chaser's phasing Δv plus the active vehicle's close-range Δv;
``rendezvous.burns`` counts the phasing burns (the close-range pulses are
``<phase>.proximity_pulses_count``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from guanghan.environment import time_scales
from guanghan.gnc import relative_navigation as rn
from guanghan.mission.leg import PhaseResult
from guanghan.mission.trajectory_table import SCHEMA, build_table


def _table(name: str, traj, step_s: float, t0: float | None = None, t1: float | None = None) -> pa.Table:
    a = traj.start_et if t0 is None else t0
    b = traj.end_et if t1 is None else t1
    if not b > a:
        return SCHEMA.empty_table()
    n = max(2, int(np.ceil((b - a) / min(step_s, 60.0))) + 1)
    ets = np.linspace(a, b, n)
    return build_table(name, "MOON", ets, traj.states(ets))


def _proximity_table(prox) -> pa.Table:
    t, tr, es, sg = prox.t_s, prox.rel_true, prox.rel_est, prox.sigma3
    cols = {"t_s": t, "range_m": prox.range_m, "range_rate_m_s": prox.range_rate_m_s}
    for k, axis in enumerate(("radial", "along", "cross")):
        cols[f"{axis}_m"] = tr[:, k]
        cols[f"{axis}_est_m"] = es[:, k]
        cols[f"{axis}_sigma3_m"] = sg[:, k]
        cols[f"{axis}_error_m"] = es[:, k] - tr[:, k]
    return pa.table(cols)


def _close_range_table(name: str, phase, passive_traj, prox, t_h: float, mass_kg: float) -> pa.Table:
    """The chaser from the hand-over (ET ``t_h``) to the capture: the passive vehicle's orbit
    (``passive_traj``, full force model) and, when the chaser is the active one, its Hill-frame
    offset from the close-range flight (two-body truth, as re-attached at the capture)."""
    t_end = t_h + float(prox.t_s[-1])
    n = max(2, int(np.ceil((t_end - t_h) / min(phase.output_step_s, 60.0))) + 1)
    ets = np.linspace(t_h, t_end, n)
    states = passive_traj.states(ets)
    if phase.active != "target":                    # the chaser flew the approach: add its offset
        rel = np.column_stack([np.interp(ets - t_h, prox.t_s, prox.rel_true[:, k]) for k in range(6)])
        states[:, :6] = [rn.chaser_from_relative(x[:6], r) for x, r in zip(states, rel, strict=True)]
    states[:, 6] = mass_kg
    return build_table(name, "MOON", ets[1:], states[1:])


def pack(phase, ctx, s, log, design, prox, stack, disposal, aborted: str | None = None,
         passive_traj=None) -> PhaseResult:
    """The PhaseResult of the rendezvous (failed in the close range when ``aborted``);
    ``passive_traj``: the passive vehicle's orbit from the hand-over to the capture."""
    name = phase.name
    for b in design.burns:
        log.add(b.start_et, name, f"phasing_{b.name}", {"duration_s": b.duration_s, "delta_v_m_s": b.delta_v_m_s,
                                                       "propellant_kg": b.propellant_kg})
    t_h = design.arrival_et
    for e in prox.events:
        log.add(t_h + e.t_s, name, e.name, {"range_m": e.range_m, "active": phase.active})
    summary = {
        "rendezvous.burns": len(design.burns),
        "rendezvous.phasing_delta_v_m_s": design.total_delta_v_m_s,
        "rendezvous.phasing_designed_delta_v_m_s": design.figures.get("designed_delta_v_m_s",
                                                                      design.total_delta_v_m_s),
        "rendezvous.delta_v_m_s": design.total_delta_v_m_s + prox.delta_v_m_s,
        "rendezvous.handover_utc": time_scales.et_to_utc(t_h),
        "rendezvous.handover_error_m": design.arrival_error_m,
        "rendezvous.proximity_delta_v_m_s": prox.delta_v_m_s,
        "rendezvous.capture_speed_m_s": prox.capture_speed_m_s,
        "rendezvous.capture_offset_m": prox.capture_lateral_m,
        "rendezvous.capture_attitude_deg": prox.capture_attitude_deg,
        f"{name}.proximity_pulses_count": prox.pulses,
        f"{name}.phasing_propellant_kg": design.propellant_kg,
        f"{name}.proximity_propellant_kg": prox.propellant_kg,
    }
    series = {"proximity": _proximity_table(prox),
              "phasing_burns": pa.table({
                  "name": [b.name for b in design.burns],
                  "utc": [time_scales.et_to_utc(b.start_et) for b in design.burns],
                  "duration_s": np.array([b.duration_s for b in design.burns], float),
                  "delta_v_m_s": np.array([b.delta_v_m_s for b in design.burns], float)})}
    table = _table(name, design.trajectory, phase.output_step_s)
    active_module = (ctx.scenario.vehicles[phase.target_vehicle if phase.active == "target" else phase.vehicle]
                     .modules)
    masses = {s.module: ctx.masses[s.module] - design.propellant_kg}
    prox_module = next((m for m in active_module if ctx.scenario.modules[m].propellant_kg > 0), None)
    if prox_module is not None:
        masses[prox_module] = masses.get(prox_module, ctx.masses[prox_module]) - prox.propellant_kg
    final = s.chaser0
    cargo = {}
    if aborted is None:
        capture_et = t_h + float(prox.t_s[-1])
        transfer_et = capture_et + 60.0 * phase.transfer_duration_min
        moved = s.cargo_kg
        log.add(capture_et, name, "docking", {"capture_speed_m_s": prox.capture_speed_m_s,
                                              "capture_offset_m": prox.capture_lateral_m})
        log.add(transfer_et, name, "sample_transfer", {"mass_kg": moved, "to_module": phase.cargo_to_module})
        log.add(s.undock_et, name, "undocking", {})
        summary.update({"rendezvous.docking_utc": time_scales.et_to_utc(capture_et),
                        "rendezvous.sample_transfer_utc": time_scales.et_to_utc(transfer_et),
                        "rendezvous.undocking_utc": time_scales.et_to_utc(s.undock_et),
                        "rendezvous.transferred_mass_kg": moved})
        close = SCHEMA.empty_table() if passive_traj is None else _close_range_table(
            name, phase, passive_traj, prox, t_h, s.chaser_mass - design.propellant_kg)
        table = pa.concat_tables([table, close, _table(name, stack, phase.output_step_s)])
        for m in ctx.scenario.vehicles[phase.vehicle].modules:
            if ctx.cargo_kg.get(m):
                masses[m] = masses.get(m, ctx.masses[m]) - ctx.cargo_kg[m]
                cargo[m] = 0.0
        masses[phase.cargo_to_module] = ctx.masses[phase.cargo_to_module] + moved
        cargo[phase.cargo_to_module] = ctx.cargo_kg.get(phase.cargo_to_module, 0.0) + moved
        x = stack.final_state
        final = type(s.chaser0).from_vector(s.undock_et, x[:6].tolist() + [s.target_mass + moved])
        if disposal is not None:
            imp, burn = disposal.impact, disposal.burn
            log.add(burn.start_et, name, "deorbit_burn", {"duration_s": burn.duration_s,
                                                          "delta_v_m_s": phase.disposal.plan.delta_v_m_s})
            log.add(imp.et, name, "impact", {"lat_deg": imp.lat_deg, "lon_deg": imp.lon_deg,
                                             "speed_m_s": imp.speed_m_s})
            summary.update({"disposal.deorbit_utc": time_scales.et_to_utc(burn.start_et),
                            "disposal.impact_utc": imp.utc, "disposal.impact_lat_deg": imp.lat_deg,
                            "disposal.impact_lon_deg": imp.lon_deg, "disposal.impact_speed_m_s": imp.speed_m_s,
                            "disposal.impact_flight_path_angle_deg": imp.flight_path_angle_deg})
            series["impact"] = pa.table({"lat_deg": [imp.lat_deg], "lon_deg": [imp.lon_deg], "utc": [imp.utc]})
            dprop = disposal.figures["propellant_kg"]
            masses[s.module] -= dprop
            summary["disposal.propellant_kg"] = dprop
    log.records.sort(key=lambda r: r["et_s"])
    meta = {"force_model": s.model_c.describe()}
    vehicles = {phase.target_vehicle: final} if aborted is None else {}
    return PhaseResult(name, final, log, summary, table, meta, series=series, aborted=aborted,
                       module_masses=masses, leg_type=phase.type, vehicle_states=vehicles, cargo_kg=cargo)
