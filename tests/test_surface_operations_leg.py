"""The surface-operations leg (issue 10): Chang'e-5 (near side, direct to Earth) and Chang'e-6 (far
side, through Queqiao-2) stay from the simulated touchdown to the published lift-off (session
fixtures, flown once); the leg runs alone from a site and an epoch; bad input is refused naming the
numbers, and a timeline that cannot fit is a logged mission failure.

Published figures (validation/missions.md §1d, §2d, §3a): Chang'e-5 ~19 h of sampling, lift-off
2020-12-03 15:10 UTC, 1,731 g returned; Chang'e-6 lift-off 2024-06-03 23:38:10 UTC, 1,935.3 g;
Queqiao-2 24 h orbit; Earth–Moon one-way light time ~1.28 s.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import spiceypy
from helpers import scenario_data, set_
from typer.testing import CliRunner

import guanghan as gh
from guanghan.cli import app
from guanghan.environment import time_scales
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.errors import ScenarioError
from guanghan.mission.mission_design import parse_design
from guanghan.mission.runner import run
from guanghan.mission.scenario import dumps_toml

KEYS = ["surface.sun_elevation_at_landing_deg", "surface.duration_h", "surface.sampling_duration_h",
        "surface.drill_depth_m", "surface.sample_mass_g", "surface.regolith_temp_max_k",
        "surface.regolith_temp_min_k", "comms.light_time_s", "comms.direct_visibility_fraction",
        "comms.relay_coverage_fraction", "comms.data_volume_mbit", "flag.temp_max_k", "flag.temp_min_k",
        "flag.thermal_cycles", "flag.survives"]


def _surface(result):
    return next(p for p in result.phases if p.leg_type == "surface_operations")


def _print(name, s):
    print(f"\n{name}: stay {s['surface.duration_h']:.2f} h, sampling {s['surface.sampling_duration_h']:.2f} h "
          f"(complete {s['surface.sampling_complete_utc']}), drill {s['surface.drill_depth_m']:.2f} m "
          f"({s['surface.drill_stop_reason']}), sample {s['surface.sample_mass_g']:.0f} g in "
          f"{s['surface.scoop_cycles_count']} scoops, Sun {s['surface.sun_elevation_at_landing_deg']:.1f}° at "
          f"landing, regolith {s['surface.regolith_temp_min_k']:.0f}–{s['surface.regolith_temp_max_k']:.0f} K; "
          f"DTE {s['comms.direct_visibility_fraction']:.3f}, relay {s['comms.relay_coverage_fraction']:.3f}, "
          f"{s['comms.data_volume_mbit']:.0f} Mbit; flag {s['flag.temp_min_k']:.0f}–{s['flag.temp_max_k']:.0f} K, "
          f"survives {s['flag.survives']}; lift-off slack {s['surface.liftoff_slack_h']:.1f} h")


@pytest.mark.parametrize("fixture", ["ce5_run", "ce6_run"])
def test_stay_has_every_key_and_fits_before_the_liftoff(request, fixture):
    scenario, result = request.getfixturevalue(fixture)
    assert result.completed, result.reason
    s = result.summary
    _print(scenario.mission.name, s)
    for key in KEYS:
        assert key in s and s[key] is not None, key
    phase = next(p for p in scenario.phases if p.type == "surface_operations")
    assert s["surface.liftoff_utc"].startswith(phase.liftoff_utc[:19])
    assert s["surface.liftoff_slack_h"] >= phase.operations.liftoff_margin_h - 1e-9
    assert s["surface.regolith_temp_min_k"] <= s["surface.regolith_temp_max_k"]
    assert 0.0 < s["surface.sampling_duration_h"] < s["surface.duration_h"]
    # the samples ride up in the sample module: its mass grew by exactly the sample mass
    leg = _surface(result)
    module = phase.sample_module
    before = scenario.modules[module].mass_kg
    assert leg.module_masses[module] == pytest.approx(before + s["surface.sample_mass_g"] / 1e3, abs=1e-9)
    assert s["surface.sample_mass_g"] <= phase.sampling.container.capacity_g + 1e-9
    # an event for each step (start and end) and each link window (open and close)
    names = [e["event"] for e in result.events if e["phase"] == phase.name]
    tl = leg.series["timeline"].to_pylist()
    for task in tl:
        assert f"{task['task']}_start" in names and f"{task['task']}_end" in names
    n_windows = leg.series["links"].num_rows
    assert sum(n.endswith("_link_window_open") for n in names) == n_windows > 0


@pytest.mark.parametrize("fixture", ["ce5_run", "ce6_run"])
def test_confirmed_steps_wait_for_the_light_and_the_ground(request, fixture):
    """No ground-confirmed step starts sooner than the round-trip light time plus the ground's
    reaction after its predecessor, and the step with its lead lies in one link window."""
    scenario, result = request.getfixturevalue(fixture)
    phase = next(p for p in scenario.phases if p.type == "surface_operations")
    leg = _surface(result)
    tl = leg.series["timeline"].to_pylist()
    links = [(r["start_h"] * 3600.0, r["end_h"] * 3600.0) for r in leg.series["links"].to_pylist()]
    lead = result.summary["comms.round_trip_s"] + phase.operations.ground_reaction_s
    assert result.summary["comms.round_trip_s"] > 2.4                    # at least 2 × 1.2 s
    confirmed = [t for t in tl if t["needs_confirmation"]]
    assert confirmed
    for prev, task in itertools.pairwise(tl):
        if task["needs_confirmation"]:
            assert task["start_h"] * 3600.0 - prev["end_h"] * 3600.0 >= lead - 1e-6
    for task in confirmed:
        s, e = task["start_h"] * 3600.0, task["end_h"] * 3600.0
        assert any(a - 1e-3 <= s - lead and e <= b + 1e-3 for a, b in links), task["task"]


def test_sun_elevation_at_landing_agrees_with_spice_illumination(ce5_run):
    """Independent truth: SPICE's ilumin incidence angle at the touchdown point (DE440, MOON_ME,
    no aberration correction) is 90° minus the Sun's elevation on a sphere."""
    _, result = ce5_run
    s = result.summary
    et = time_scales.utc_to_et(s["surface.touchdown_utc"])
    lat, lon = math.radians(s["surface.site_lat_deg"]), math.radians(s["surface.site_lon_deg"])
    r = (MOON_MEAN_RADIUS / 1e3) * np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon),
                                             math.sin(lat)])
    _, _, _, incidence, _ = spiceypy.ilumin("ELLIPSOID", "MOON", et, "MOON_ME", "NONE", "SUN", r)
    assert s["surface.sun_elevation_at_landing_deg"] == pytest.approx(90.0 - math.degrees(incidence), abs=0.01)


def test_near_side_talks_to_earth_and_far_side_through_the_relay(ce5_run, ce6_run):
    s5, s6 = ce5_run[1].summary, ce6_run[1].summary
    # one-way light time ~1.28 s (missions.md §4), within the Earth–Moon distance's ±6 %
    for s in (s5, s6):
        assert s["comms.light_time_s"] == pytest.approx(1.282, rel=0.07)
    assert s5["comms.direct_visibility_fraction"] > 0.5 and s5["comms.relay_coverage_fraction"] == 0.0
    assert s6["comms.direct_visibility_fraction"] == 0.0
    assert 0.0 < s6["comms.relay_coverage_fraction"] < 1.0
    # Queqiao-2: the published 200 × 16,000 km give a 24.32 h Kepler period; "24 h" is rounded
    assert s6["comms.relay_period_h"] == pytest.approx(24.0, rel=0.015)
    assert s5["comms.relay_period_h"] is None


def _ce6_alone(tmp_path, *mutations, touchdown="2024-06-01T22:23:16Z"):
    """The Chang'e-6 surface phase alone, from the published touchdown at the scenario's site."""
    data = scenario_data("chang-e-6")
    i = next(k for k, p in enumerate(data["phases"]) if p["type"] == "surface_operations")
    phase = data["phases"][i]
    phase["touchdown_utc"] = touchdown
    data["phases"] = [phase]
    data.pop("dispersions", None)                  # they name the phases left out
    data["mission"]["epoch_utc"] = touchdown
    data["validation"] = [r for r in data.get("validation", [])
                          if r["key"].split(".")[0] in ("surface", "comms", "flag")]
    for m in mutations:
        m(data)
    path = tmp_path / "surface.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    return gh.load_scenario(path)


def test_leg_runs_alone_from_a_site_and_an_epoch(tmp_path, ce6_run):
    result = run(_ce6_alone(tmp_path))
    assert result.completed, result.reason
    s, chained = result.summary, ce6_run[1].summary
    # 26 s and a few metres from the simulated touchdown: the same stay within minutes and a degree
    assert s["surface.sun_elevation_at_landing_deg"] == pytest.approx(chained["surface.sun_elevation_at_landing_deg"], abs=0.2)
    assert s["comms.relay_coverage_fraction"] == pytest.approx(chained["comms.relay_coverage_fraction"], abs=0.02)
    assert s["surface.sample_mass_g"] == pytest.approx(chained["surface.sample_mass_g"], rel=1e-9)


@pytest.mark.parametrize("mutation, field, numbers", [
    (set_("phases.0.sampling.container.capacity_g", 1500.0), "sampling.container.capacity_g", ["1500", "2000"]),
    (set_("phases.0.sampling.drill.target_depth_m", 3.0), "sampling.drill.target_depth_m", ["3", "2.5"]),
    (set_("phases.0.comms.relay.periapsis_altitude_m", 5000.0), "comms.relay.periapsis_altitude_m", ["10."]),
    (set_("phases.0.liftoff_utc", "2024-06-01T20:00:00Z"), "liftoff_utc", ["touchdown"]),
])
def test_bad_surface_input_is_refused_naming_the_numbers(tmp_path, mutation, field, numbers):
    with pytest.raises(ScenarioError) as err:
        run(_ce6_alone(tmp_path, mutation))
    assert err.value.field.endswith(field), err.value.field
    for n in numbers:
        assert n in str(err.value), str(err.value)


def test_a_timeline_that_cannot_fit_is_a_logged_failure(tmp_path):
    """Lift-off 12 h after touchdown: the work cannot fit; the run fails (exit 3) with the numbers."""
    scenario = _ce6_alone(tmp_path, set_("phases.0.liftoff_utc", "2024-06-02T10:23:16Z"))
    result = run(scenario)
    assert not result.completed and result.failed_leg == "surface"
    assert "timeline" in result.reason and any(c.isdigit() for c in result.reason)
    assert any(e["event"] == "timeline_infeasible" for e in result.events)
    out = tmp_path / "run"
    cli = CliRunner().invoke(app, ["run", str(scenario.source_path), "--out", str(out)])
    assert cli.exit_code == 3, cli.output
    assert (out / "summary.json").exists()


def test_the_stored_timeline_is_taken_only_for_the_tasks_and_windows_it_was_solved_for(tmp_path):
    """The CP-SAT timeline is the leg's design: flown from a stored design it is taken as it is
    (every figure the same, no solve) when its inputs' digest matches, and solved again, to the same
    timeline, when it does not (event ``timeline_rescheduled``)."""
    scenario = _ce6_alone(tmp_path)
    first = run(scenario)
    doc = json.loads(first.design.to_json())
    assert set(doc["phases"]["surface"]["data"]) == {"timeline_inputs_sha256", "timeline"}
    again = run(scenario, design=parse_design(json.dumps(doc), "memory"))
    assert not any(e["event"] == "timeline_rescheduled" for e in again.events)
    same = {k: v for k, v in first.summary.items() if "wall" not in k}
    assert {k: v for k, v in again.summary.items() if "wall" not in k} == same
    doc["phases"]["surface"]["data"]["timeline_inputs_sha256"] = "0" * 64
    third = run(scenario, design=parse_design(json.dumps(doc), "memory"))
    assert [e["event"] for e in third.events if e["event"] == "timeline_rescheduled"] == ["timeline_rescheduled"]
    assert {k: v for k, v in third.summary.items() if "wall" not in k} == same
