"""The lunar-rendezvous leg (issue 11, items 4–5) in the full missions (session fixtures, flown
once): phasing from the ascent's insertion to the hand-over, the orbiter's autonomous approach and
capture, the samples moved to the returner, undocking and (Chang'e-5) the ascender's impact.

Published (validation/missions.md §1e, §2e): Chang'e-5 docking 2020-12-05 21:42 UTC, container
transferred 22:12, undocking 2020-12-06 04:35, ascender impact near 30° S, 0° E; Chang'e-6 docking
2024-06-06 06:48 UTC.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from guanghan.environment import time_scales

KEYS = ["rendezvous.burns", "rendezvous.delta_v_m_s", "rendezvous.docking_utc",
        "rendezvous.capture_speed_m_s", "rendezvous.capture_offset_m"]
DISPOSAL = ["disposal.impact_utc", "disposal.impact_lat_deg", "disposal.impact_lon_deg"]


def _leg(result):
    return next(p for p in result.phases if p.leg_type == "lunar_rendezvous")


@pytest.mark.parametrize("fixture, docking", [("ce5_run", "2020-12-05T21:42:00Z"),
                                              ("ce6_run", "2024-06-06T06:48:00Z")])
def test_the_orbiter_captures_the_ascender_within_six_hours_of_the_published_docking(request, fixture,
                                                                                       docking):
    scenario, result = request.getfixturevalue(fixture)
    assert result.completed, result.reason
    s = result.summary
    print(f"\n{scenario.mission.name}: {s['rendezvous.burns']} phasing burns "
          f"({s['rendezvous.phasing_delta_v_m_s']:.1f} m/s), hand-over {s['rendezvous.handover_utc']}, "
          f"close range {s['rendezvous.proximity_delta_v_m_s']:.1f} m/s, docking {s['rendezvous.docking_utc']} "
          f"at {s['rendezvous.capture_speed_m_s']:.3f} m/s, offset {s['rendezvous.capture_offset_m'] * 1e3:.1f} mm")
    for key in KEYS:
        assert s.get(key) is not None, key
    dt = time_scales.utc_to_et(s["rendezvous.docking_utc"]) - time_scales.utc_to_et(docking)
    assert abs(dt) < 6 * 3600.0
    phase = next(p for p in scenario.phases if p.type == "lunar_rendezvous")
    cap = phase.proximity.capture
    assert cap.closing_speed_min_m_s <= s["rendezvous.capture_speed_m_s"] <= cap.closing_speed_max_m_s
    assert s["rendezvous.capture_offset_m"] <= cap.lateral_offset_max_m
    assert s["rendezvous.capture_attitude_deg"] <= cap.relative_attitude_max_deg
    names = [e["event"] for e in result.events if e["phase"] == phase.name]
    for event in ("hand_over", "final_approach_start", "capture", "docking", "sample_transfer", "undocking"):
        assert event in names, event
    assert sum(n.startswith("phasing_") for n in names) == s["rendezvous.burns"]
    assert any(n.startswith("holding_point") for n in names)


@pytest.mark.parametrize("fixture", ["ce5_run", "ce6_run"])
def test_the_samples_move_to_the_returner_and_fly_home_in_it(request, fixture):
    scenario, result = request.getfixturevalue(fixture)
    s = result.summary
    leg = _leg(result)
    samples = s["surface.sample_mass_g"] / 1e3
    assert s["rendezvous.transferred_mass_kg"] == pytest.approx(samples, abs=1e-9)
    returner = scenario.modules["returner"].mass_kg
    assert leg.module_masses["returner"] == pytest.approx(returner + samples, abs=1e-9)
    assert leg.cargo_kg["returner"] == pytest.approx(samples, abs=1e-9)
    assert result.meta["module_masses_kg"]["returner"] == pytest.approx(returner + samples, abs=1e-9)


def test_chang_e_5_ascender_hits_the_moon_near_30_south_0_east(ce5_run):
    _, result = ce5_run
    s = result.summary
    for key in DISPOSAL:
        assert s.get(key) is not None, key
    print(f"\nChang'e-5 ascender: deorbit {s['disposal.deorbit_utc']}, impact {s['disposal.impact_utc']} at "
          f"{s['disposal.impact_lat_deg']:.2f}°, {s['disposal.impact_lon_deg']:.2f}° "
          f"({s['disposal.impact_speed_m_s']:.0f} m/s)")
    assert s["disposal.impact_lat_deg"] == pytest.approx(-30.0, abs=5.0)
    assert s["disposal.impact_lon_deg"] == pytest.approx(0.0, abs=5.0)
    names = {e["event"] for e in result.events if e["phase"] == "rendezvous"}
    assert {"deorbit_burn", "impact"} <= names


_ALONE = """
start_utc = "2020-12-03T15:16:09Z"
[phases.chaser_orbit]                 # the ascender just inserted, 15 x 180 km
frame = "J2000"
periapsis_altitude_km = 15.0
apoapsis_altitude_km = 180.0
inclination_deg = 43.5
[phases.target_orbit]                 # the orbiter-returner 60 deg ahead, 0.05 deg out of plane
frame = "J2000"
periapsis_altitude_km = 200.0
apoapsis_altitude_km = 210.0
inclination_deg = 43.5
raan_deg = 0.05
true_anomaly_deg = 60.0
"""


def _alone_scenario(tmp_path, with_orbits: bool = True):
    """Chang'e-5's modules and vehicles with its rendezvous phase as the only phase."""
    from helpers import scenario_path

    lines = scenario_path("chang-e-5").read_text(encoding="utf-8").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("[[phases]]")]
    blocks = [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    phase = next(b for b in blocks if 'type = "lunar_rendezvous"' in b)
    end = next((i for i, line in enumerate(phase) if line.startswith("[") and not line.startswith(
        ("[phases", "[[phases"))), len(phase))
    phase = phase[:end]
    cut = phase.index(next(line for line in phase if line.startswith("[phases.")))
    text = "\n".join(lines[:starts[0]] + phase[:cut] + ([_ALONE] if with_orbits else []) + phase[cut:])
    path = tmp_path / "alone.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_rendezvous_runs_alone_from_orbits_in_the_scenario(tmp_path):
    """Issue 11 item 6: run alone, from the chaser's and the target's orbits given in TOML."""
    import guanghan as gh

    res = gh.run(gh.load_scenario(_alone_scenario(tmp_path)))
    s = res.summary
    print(f"\nrendezvous alone: {s['rendezvous.burns']} burns, {s['rendezvous.phasing_delta_v_m_s']:.1f} m/s, "
          f"hand-over miss {s['rendezvous.handover_error_m']:.0f} m, docking {s['rendezvous.docking_utc']}, "
          f"capture {s['rendezvous.capture_speed_m_s']:.3f} m/s; impact {s['disposal.impact_lat_deg']:.1f}°, "
          f"{s['disposal.impact_lon_deg']:.1f}°")
    assert res.completed, res.reason
    assert s["rendezvous.burns"] == 4 and s["rendezvous.capture_offset_m"] < 0.1
    assert time_scales.utc_to_et(s["rendezvous.docking_utc"]) < time_scales.utc_to_et("2020-12-06T04:35:00Z")


def test_a_rendezvous_alone_without_orbits_is_refused_naming_them(tmp_path):
    import guanghan as gh
    from guanghan.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        gh.load_scenario(_alone_scenario(tmp_path, with_orbits=False))
    assert "chaser_orbit" in str(err.value)


@pytest.mark.parametrize("fixture", ["ce5_run", "ce6_run"])
def test_the_chasers_trajectory_has_no_hole_from_the_phasing_to_the_undocking(request, fixture):
    """The close range is in the trajectory table too: rows at most 60 s apart from the first
    phasing row to the undocking, each step consistent with the mean velocity over it."""
    scenario, result = request.getfixturevalue(fixture)
    t = result.trajectory.filter(pc.equal(result.trajectory["phase"], "rendezvous"))
    et = t["et_s"].to_numpy()
    undock = time_scales.utc_to_et(result.summary["rendezvous.undocking_utc"])
    inside = et <= undock + 1e-6
    et = et[inside]
    r = np.column_stack([t[c].to_numpy()[inside] for c in ("x_m", "y_m", "z_m")])
    v = np.column_stack([t[c].to_numpy()[inside] for c in ("vx_m_s", "vy_m_s", "vz_m_s")])
    dt = np.diff(et)
    assert dt.max() <= 60.0 + 1e-6 and dt.min() >= 0.0
    step = np.linalg.norm(np.diff(r, axis=0) - 0.5 * (v[1:] + v[:-1]) * dt[:, None], axis=1)
    burns = result.series["rendezvous.phasing_burns"]
    starts = np.array([time_scales.utc_to_et(u) for u in burns["utc"].to_pylist()])
    ends = starts + burns["duration_s"].to_numpy()
    coasting = ~np.any((et[:-1, None] < ends) & (et[1:, None] > starts), axis=1)
    assert coasting.sum() > 0.9 * len(step)
    assert step[coasting].max() < 100.0           # m: no jump (trapezoid error at 60 s steps ~30 m)


def test_an_active_chasers_close_range_rows_carry_its_hill_offset():
    """Chaser active: its rows are the passive orbit plus the close-range Hill-frame offset."""
    from types import SimpleNamespace

    from guanghan.dynamics.forces import CentralGravity, ForceModel
    from guanghan.dynamics.propagator import propagate
    from guanghan.dynamics.state import SpacecraftState
    from guanghan.environment import spice_kernels
    from guanghan.mission.legs.lunar_rendezvous.packing import _close_range_table

    et0, mu = time_scales.utc_to_et("2020-12-05T17:00:00Z"), spice_kernels.gm("MOON")
    r0 = 1_737_400.0 + 200e3
    passive = SpacecraftState(et0, [r0, 0.0, 0.0], [0.0, (mu / r0) ** 0.5, 0.0], 2000.0)
    traj = propagate(passive, et0 + 3600.0, ForceModel(CentralGravity("MOON", mu))).trajectory
    rel = np.tile([0.0, -100.0, 0.0, 0.0, 0.0, 0.0], (3, 1))         # 100 m behind, at rest in Hill
    prox = SimpleNamespace(t_s=np.array([0.0, 1800.0, 3600.0]), rel_true=rel)
    phase = SimpleNamespace(active="chaser", output_step_s=60.0)
    t = _close_range_table("rendezvous", phase, traj, prox, et0, 700.0)
    et = t["et_s"].to_numpy()
    r = np.column_stack([t[c].to_numpy() for c in ("x_m", "y_m", "z_m")])
    gap = np.linalg.norm(r - traj.states(et)[:, :3], axis=1)
    assert len(et) == 60 and np.allclose(gap, 100.0, atol=1e-6)
    assert np.all(t["mass_kg"].to_numpy() == 700.0)
