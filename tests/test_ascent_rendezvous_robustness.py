"""Robustness of the autonomous ascent and rendezvous (issue 11), on Chang'e-5's own inputs.

Fifty seeded chains from the published lift-off: each draws a thrust factor (±2 %), an Isp factor
(±1 %), the IMU's bias, scale factor, misalignment and noise, the relative sensor's biases and
noise, the thrusters' errors, the phasing burns' execution errors and the filter's initial error.
Each flies the on-board ascent on the GRAIL field; the ground plans the phasing from that
insertion, the burns are flown with their errors and the final transfer re-planned; the orbiter
flies the close-range approach from the hand-over reached, with its filter in the loop. Every ascent must reach an orbit whose periapsis stays above
10 km and every approach must end in a capture within the scenario's contact tolerances.

The same seeds also fly the ascent with the ground in the loop (every command late by the round
trip plus the ground's reaction time). Print both loops' comparison with

    python -m pytest -q -s tests/test_ascent_rendezvous_robustness.py

(about 4 min: the full Chang'e-5 run, then the chains, two at a time in forked processes).
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass

import numpy as np
import pytest

from guanghan.gnc.ascent_flight import fly_ascent
from guanghan.gnc.phasing_flight import fly_phasing
from guanghan.gnc.rendezvous_phasing import design_phasing
from guanghan.mission.leg import LegContext
from guanghan.mission.legs.lunar_ascent.flight import AscentSetup, truth_field
from guanghan.mission.legs.lunar_rendezvous.flight import (
    TOLERANCES,
    RendezvousSetup,
    fly_close_range,
)

SEEDS = range(50)
MIN_PERIAPSIS_KM = 10.0


def _contexts(scenario, phases):
    """LegContexts of the ascent and the rendezvous as the runner built them, from the phases flown."""
    masses = {n: m.mass_kg for n, m in scenario.modules.items()}
    vehicles, cargo, state, out = {}, {}, None, {}
    for i, (phase, res) in enumerate(zip(scenario.phases, phases, strict=False)):
        for module, kg in (phase.start_propellant_kg or {}).items():
            masses[module] = scenario.modules[module].dry_mass_kg + kg
        if phase.type in ("lunar_ascent", "lunar_rendezvous"):
            out[phase.type] = (i, LegContext(scenario, i, state, dict(masses), dict(vehicles), dict(cargo)))
        masses.update(res.module_masses)
        vehicles.update(res.vehicle_states)
        cargo.update(res.cargo_kg)
        state = res.final_state
    return out


@dataclass(frozen=True)
class _Ascent:
    """What the checks need of one ascent (the full results stay in the worker)."""

    failure_reason: str | None
    inserted: bool
    periapsis_altitude_km: float
    apoapsis_altitude_km: float
    propellant_kg: float


@dataclass(frozen=True)
class _Capture:
    success: bool
    failure_reason: str | None
    capture_speed_m_s: float | None
    capture_lateral_m: float | None
    capture_attitude_deg: float | None


def _short(a) -> _Ascent:
    return _Ascent(a.failure_reason, a.insertion_state is not None, a.periapsis_altitude_km,
                   a.apoapsis_altitude_km, a.propellant_kg)


_SETUP: tuple = ()                 # set before the workers fork; they inherit it


def _chain_of(seed: int) -> dict:
    return _chain(seed, *_SETUP)


def _chain(seed: int, ascent, s: AscentSetup, field, delay_s: float, rendezvous, ctx_r: LegContext,
           before_kg: float) -> dict:
    draw = np.random.default_rng(np.random.SeedSequence([11, seed]))
    thrust, isp = 1.0 + draw.uniform(-0.02, 0.02), 1.0 + draw.uniform(-0.01, 0.01)
    imu_seed, rel_seed, phasing_seed = (int(k) for k in draw.integers(2**63, size=3))
    loops = {}
    for key, delay in (("onboard", 0.0), ("ground", delay_s)):
        loops[key] = fly_ascent(s.lat, s.lon, s.et, s.vehicle, s.target, profile=ascent.profile, imu=ascent.imu,
                                rng=np.random.default_rng(imu_seed), ground_delay_s=delay,
                                telemetry=ascent.ground_loop.telemetry, thrust_factor=thrust, isp_factor=isp,
                                field=field)
    asc = loops["onboard"]
    out = {"seed": seed, "thrust": thrust, "isp": isp, "onboard": _short(asc), "ground": _short(loops["ground"]),
           "capture": None}
    if asc.insertion_state is None:
        return out
    masses = dict(ctx_r.masses)
    masses[s.module] = before_kg - asc.propellant_kg             # this ascent's propellant, not the nominal's
    ctx = LegContext(ctx_r.scenario, ctx_r.index, asc.insertion_state, masses, ctx_r.vehicles, ctx_r.cargo_kg)
    r = RendezvousSetup(rendezvous, ctx)
    design = design_phasing(r.chaser0.with_mass(r.chaser_mass), r.target_at_start, r.model_c, r.engine,
                            rendezvous.phasing, TOLERANCES)
    errors = rendezvous.phasing_errors.model_copy(update={"seed": phasing_seed})
    design = fly_phasing(r.chaser0.with_mass(r.chaser_mass), r.model_c, r.engine, design, errors, TOLERANCES)
    out["phasing_dv_m_s"], out["handover_error_m"] = design.total_delta_v_m_s, design.arrival_error_m
    cap, _, _ = fly_close_range(rendezvous.model_copy(update={"seed": rel_seed}), r, design)
    out["capture"] = _Capture(cap.success, cap.failure_reason, cap.capture_speed_m_s, cap.capture_lateral_m,
                              cap.capture_attitude_deg)
    return out


@pytest.fixture(scope="module")
def chains(ce5_run):
    scenario, result = ce5_run
    ctxs = _contexts(scenario, result.phases)
    (ia, ctx_a), (ir, ctx_r) = ctxs["lunar_ascent"], ctxs["lunar_rendezvous"]
    ascent, rendezvous = scenario.phases[ia], scenario.phases[ir]
    s = AscentSetup(ascent, ctx_a)
    delay = s.round_trip_s + ascent.ground_loop.reaction_s
    field = truth_field(ascent, ctx_a)
    global _SETUP
    _SETUP = (ascent, s, field, delay, rendezvous, ctx_r, ctx_a.masses[s.module])
    try:                           # each chain is a pure function of its seed: the order is free
        with multiprocessing.get_context("fork").Pool(2) as pool:
            runs = pool.map(_chain_of, SEEDS, chunksize=1)
    finally:
        _SETUP = ()
    _print_comparison(runs, delay, rendezvous)
    return runs, rendezvous


def _print_comparison(runs, delay_s: float, rendezvous) -> None:
    print(f"\nChang'e-5 ascent, {len(runs)} seeded dispersions (thrust ±2 %, Isp ±1 %, IMU errors); "
          f"ground loop: commands {delay_s:.2f} s late")
    for key in ("onboard", "ground"):
        res = [r[key] for r in runs]
        ok = [a for a in res if a.inserted and a.periapsis_altitude_km > MIN_PERIAPSIS_KM]
        peri = np.array([a.periapsis_altitude_km for a in ok])
        apo = np.array([a.apoapsis_altitude_km for a in ok])
        print(f"  {key:8s} failures {len(res) - len(ok):2d}/{len(res)}; periapsis "
              f"{np.mean(peri):.2f} ± {np.std(peri):.2f} km (min {np.min(peri, initial=np.inf):.2f}); apoapsis "
              f"{np.mean(apo):.1f} ± {np.std(apo):.1f} km" if ok else f"  {key:8s} failures {len(res)}/{len(res)}")
    caps = [r["capture"] for r in runs if r["capture"] is not None]
    ok = sum(c.success for c in caps)
    tol = rendezvous.proximity.capture
    speed = [c.capture_speed_m_s for c in caps if c.capture_speed_m_s is not None]
    lateral = [c.capture_lateral_m for c in caps if c.capture_lateral_m is not None]
    miss = [r["handover_error_m"] for r in runs if "handover_error_m" in r]
    print(f"  phasing (0.3 % / 0.1° burn errors, final transfer re-planned): hand-over miss median "
          f"{np.median(miss):.0f} m, max {np.max(miss, initial=0):.0f} m")
    print(f"  rendezvous: captures {ok}/{len(runs)}; closing speed {min(speed, default=np.nan):.3f}–"
          f"{max(speed, default=np.nan):.3f} m/s (window {tol.closing_speed_min_m_s}–{tol.closing_speed_max_m_s}); "
          f"lateral offset ≤ {max(lateral, default=np.nan):.3f} m (limit {tol.lateral_offset_max_m} m)")


def test_every_onboard_ascent_reaches_a_safe_orbit(chains):
    runs, _ = chains
    bad = [(r["seed"], r["onboard"].failure_reason, r["onboard"].periapsis_altitude_km) for r in runs
           if not r["onboard"].inserted or not r["onboard"].periapsis_altitude_km > MIN_PERIAPSIS_KM]
    assert not bad, bad


def test_every_rendezvous_captures_within_the_contact_tolerances(chains):
    runs, rendezvous = chains
    tol = rendezvous.proximity.capture
    bad = []
    for r in runs:
        cap = r["capture"]
        if cap is None or not cap.success:
            bad.append((r["seed"], None if cap is None else cap.failure_reason))
            continue
        if not (tol.closing_speed_min_m_s <= cap.capture_speed_m_s <= tol.closing_speed_max_m_s
                and cap.capture_lateral_m <= tol.lateral_offset_max_m
                and cap.capture_attitude_deg <= tol.relative_attitude_max_deg):
            bad.append((r["seed"], cap.capture_speed_m_s, cap.capture_lateral_m, cap.capture_attitude_deg))
    assert not bad, bad


def test_the_seeds_really_disperse(chains):
    """The fifty chains are not one run repeated: the dispersions reach the insertions."""
    runs, _ = chains
    insertions = {(round(r["onboard"].apoapsis_altitude_km, 6), round(r["onboard"].propellant_kg, 6))
                  for r in runs}
    assert len(insertions) == len(runs)
    assert np.ptp([r["thrust"] for r in runs]) > 0.02
