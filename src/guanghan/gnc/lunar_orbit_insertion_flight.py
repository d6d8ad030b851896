"""The flown lunar-orbit insertion: each LOI burn solved on the flown state at its ignition and flown.

:func:`fly_loi` is the last part of :func:`~guanghan.gnc.lunar_transfer_flight.fly_transfer`: for
each burn of the plan it solves the duration (and, for a pitch-programmed burn, the linear pitch
programme) on the flown state with the patched full force model
(:func:`~guanghan.gnc.lunar_orbit_insertion.solve_burn`,
:func:`~guanghan.gnc.lunar_orbit_insertion.solve_steered_burn`), or takes a stored solution from the
same state (``--design-from``), and flies it with an accelerometer cut-off and a pointing tilt
(:func:`~guanghan.gnc.execution_errors.tracked_tilt`). Figures per burn ``loi{k}.*``: duration,
Δv from the mass drop, the impulsive Δv at the periselene for the same orbit energy, gravity loss,
ignition altitude, propellant, the stack mass a published duration implies.

References
    Curtis, H. D. (2020), *Orbital Mechanics for Engineering Students*, §6.2 (vis-viva); see
    :mod:`guanghan.gnc.lunar_orbit_insertion`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.propulsion import burn_duration, delta_v_from_masses, mass_for_burn
from guanghan.dynamics.state import SpacecraftState
from guanghan.gnc import lunar_orbit_insertion as loi
from guanghan.gnc import lunar_transfer_design as ltd
from guanghan.gnc.execution_errors import tracked_tilt
from guanghan.gnc.lunar_transfer_plan import TransferProblem


def _add(events: list, et: float, name: str, **details) -> None:
    events.append({"et": float(et), "event": name, "details": details})


def loi_aims(problem: TransferProblem) -> list[loi.LoiAim]:
    """What each LOI burn of the plan aims at (revolutions to the next burn, an apoapsis or a mean
    altitude, m)."""
    out = []
    for b in problem.plan.loi:
        if b.revolutions is not None:
            out.append(loi.LoiAim("revolutions", float(b.revolutions)))
        elif b.apoapsis_altitude_km is not None:
            out.append(loi.LoiAim("apoapsis", b.apoapsis_altitude_km * 1e3))
        else:
            out.append(loi.LoiAim("mean", b.mean_altitude_km * 1e3))
    return out


def engine_module(engine_name: str) -> str:
    """The module of a ``module.engine`` name (whose propellant the engine burns)."""
    return engine_name.split(".", 1)[0]


def fly_loi(problem, models, state, arrival, est, draws, left, events, stored=None):
    """Solve and fly each LOI burn of ``problem`` from the flown state at its ignition (a
    ``stored`` :class:`~guanghan.gnc.lunar_orbit_insertion.SolvedLoi` from that same state is
    flown as it is), from ``state`` at the first burn's ignition, ``arrival`` the unburnt
    periselene, ``est`` the impulsive estimate ((Δv, duration) per burn), ``draws`` the execution
    errors' draws, ``left`` (kg, updated) the propellant of each module, ``events`` (appended).
    Returns the state at the end of the last burn, the propagated legs, the ``loi`` figures and
    the solutions."""
    plan, mu, aims = problem.plan, models.moon.central.mu, loi_aims(problem)
    legs, figs, total_dv, total_kg, solved = [], {}, 0.0, 0.0, []
    for k, b in enumerate(plan.loi):
        eng = problem.loi_engine(k)
        aim = aims[k]
        nxt = plan.loi[k + 1].et if k + 1 < len(plan.loi) else math.inf
        if aim.kind == "revolutions":
            aim = replace(aim, next_mid_et=nxt + 0.5 * est[k + 1][1])
        args = (state, eng, aim, models, est[k][1], left[engine_module(b.engine)], est[k][0])
        kw = {"quantity": f"loi[{k}].engine", "value": b.engine, "max_s": nxt - state.et}
        again = stored[k] if stored is not None and k < len(stored) else None
        if again is not None and state.close_to(again.start) and \
                (again.burn.thrust_n, again.burn.isp_s) == (eng.total_thrust_n, eng.isp_s):
            planned = again.burn
            spread, spread_plain = (math.nan if x is None else x for x in (again.steered_m, again.plain_m))
        elif b.steering == "pitch_programme":
            keep = plan.arrival.periselene_altitude_km * 1e3 if aim.kind == "apoapsis" else None
            planned, spread, spread_plain = loi.solve_steered_burn(*args, **kw, periapsis_m=keep)
        else:
            planned, spread, spread_plain = loi.solve_burn(*args, **kw), math.nan, math.nan
        if stored is not None and planned is not getattr(again, "burn", None):
            _add(events, state.et, f"loi{k + 1}_redesigned", reason="the flown state at ignition is not "
                 "the one the stored burn was solved from")
        solved.append(loi.SolvedLoi(state, planned, *(None if math.isnan(x) else float(x)
                                                      for x in (spread, spread_plain))))
        plan_traj = propagate(state, planned.end_et + 1.0, replace(models.moon, burns=[planned]),
                              models.tolerances).trajectory
        parts = tracked_tilt(planned, plan.execution_errors, draws[f"loi{k + 1}"], plan_traj)
        main = parts[0]
        end_et = nxt if k + 1 < len(plan.loi) else main.end_et
        res = propagate(state, end_et, replace(models.moon, burns=parts), models.tolerances)
        legs.append(res)
        m0, m1 = res.trajectory.states([main.start_et, main.end_et])[:, 6]
        dv = delta_v_from_masses(m0, m1, eng.isp_s)
        after = SpacecraftState.from_vector(main.end_et, res.trajectory.states([main.end_et])[0])
        before = arrival if k == 0 else _coast_periselene(state, models)
        dv_imp = _impulsive_equivalent(before, after, mu)
        left[engine_module(b.engine)] -= m0 - m1
        total_dv, total_kg = total_dv + dv, total_kg + (m0 - m1)
        p = f"loi{k + 1}"
        figs.update({f"{p}.utc": b.utc, f"{p}.duration_s": main.duration_s, f"{p}.delta_v_m_s": dv,
                     f"{p}.impulsive_delta_v_m_s": dv_imp, f"{p}.gravity_loss_m_s": dv - dv_imp,
                     f"{p}.ignition_altitude_km": (np.linalg.norm(state.r) - loi.moon_radius()) / 1e3,
                     f"{p}.propellant_kg": m0 - m1,
                     f"{p}.rocket_equation_duration_s": burn_duration(m0, dv, eng.total_thrust_n, eng.isp_s)})
        if b.steering == "pitch_programme":
            what = "periapsis_error" if aim.kind == "apoapsis" else "altitude_spread"
            figs.update({f"{p}.pitch_deg": math.degrees(planned.pitch_rad),
                         f"{p}.pitch_rate_deg_s": math.degrees(planned.pitch_rate_rad_s),
                         f"{p}.planned_{what}_km": spread / 1e3,
                         f"{p}.retrograde_{what}_km": spread_plain / 1e3})
        if b.published_duration_s is not None:
            figs[f"{p}.implied_stack_mass_kg"] = mass_for_burn(dv, b.published_duration_s, eng.total_thrust_n,
                                                               eng.isp_s)
        _add(events, main.start_et, f"{p}_start", thrust_n=main.thrust_n, isp_s=eng.isp_s,
             altitude_km=figs[f"{p}.ignition_altitude_km"])
        _add(events, main.end_et, f"{p}_end", duration_s=main.duration_s, delta_v_m_s=dv)
        state = res.final_state
    figs.update({"loi.burns": len(plan.loi), "loi.delta_v_m_s": total_dv, "loi.propellant_kg": total_kg,
                 "loi.first_burn_duration_s": figs["loi1.duration_s"],
                 "loi.first_burn_ignition_altitude_km": figs["loi1.ignition_altitude_km"]})
    return state, legs, figs, solved


def _coast_periselene(state: SpacecraftState, models) -> SpacecraftState:
    """The next periselene of ``state``'s coast (Moon-centred), within a day."""
    peri, _ = ltd.fly_to_periselene(state, models, state.et + 86400.0)
    return peri


def _impulsive_equivalent(before: SpacecraftState, after: SpacecraftState, mu: float) -> float:
    """Δv (m/s) of the impulsive burn at the periselene of ``before`` leaving the orbital energy
    that ``after`` has (vis-viva, Curtis §6.2)."""
    rp = float(np.linalg.norm(before.r))
    energy = 0.5 * after.v @ after.v - mu / np.linalg.norm(after.r)
    return float(np.linalg.norm(before.v) - math.sqrt(2.0 * (energy + mu / rp)))
