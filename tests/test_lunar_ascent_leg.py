"""The lunar-ascent leg (issue 11, items 1–3): Chang'e-5 lifts off at the end of its simulated
surface stay into the orbiter's plane (session fixture, flown once); an Apollo-like ascent stage
flies from TOML alone; the ground-in-the-loop comparison; bad input refused naming the numbers.

Published ([CE5-CNS1204] in validation/missions.md §1e): lift-off 2020-12-03 15:10 UTC, 3000 N for
~6 min.
"""

from __future__ import annotations

import pytest
from helpers import scenario_data, scenario_path, set_

import guanghan as gh
from guanghan.errors import ScenarioError
from guanghan.mission.runner import run
from guanghan.mission.scenario import dumps_toml

KEYS = ["ascent.liftoff_utc", "ascent.burn_time_s", "ascent.delta_v_m_s", "ascent.propellant_kg",
        "ascent.insertion_periapsis_km", "ascent.insertion_apoapsis_km",
        "ascent.insertion_inclination_deg", "ascent.ground_loop_failure_rate"]


def _print(name, s):
    print(f"\n{name}: lift-off {s['ascent.liftoff_utc']}, burn {s['ascent.burn_time_s']:.1f} s, "
          f"Δv {s['ascent.delta_v_m_s']:.0f} m/s, {s['ascent.propellant_kg']:.1f} kg, "
          f"{s['ascent.insertion_periapsis_km']:.2f} × {s['ascent.insertion_apoapsis_km']:.2f} km at "
          f"{s['ascent.insertion_inclination_deg']:.2f}°; dispersed failures on-board "
          f"{s['ascent.onboard_failure_rate']:.2f}, ground loop {s['ascent.ground_loop_failure_rate']:.2f} "
          f"(apoapsis RMS {s.get('ascent.onboard_apoapsis_error_rms_km', float('nan')):.2f} vs "
          f"{s.get('ascent.ground_loop_apoapsis_error_rms_km', float('nan')):.2f} km, delay "
          f"{s['ascent.ground_loop_delay_s']:.2f} s)")


def test_chang_e_5_lifts_off_at_the_published_epoch_into_the_orbiters_plane(ce5_run):
    scenario, result = ce5_run
    assert result.completed, result.reason
    s = result.summary
    _print("Chang'e-5", s)
    for key in KEYS:
        assert s.get(key) is not None, key
    assert s["ascent.liftoff_utc"].startswith("2020-12-03T15:10:00")
    assert s["ascent.burn_time_s"] == pytest.approx(360.0, rel=0.10)          # "~6 min"
    phase = next(p for p in scenario.phases if p.type == "lunar_ascent")
    assert s["ascent.insertion_periapsis_km"] == pytest.approx(phase.target.periapsis_altitude_km, abs=1.0)
    assert s["ascent.insertion_apoapsis_km"] == pytest.approx(phase.target.apoapsis_altitude_km, abs=5.0)
    assert s["ascent.onboard_failure_rate"] == 0.0
    # the plane through the site closest to the orbiter's: what is left is the site's offset
    assert 0.0 <= s["ascent.target_plane_offset_deg"] < 10.0
    assert s["ascent.plane_error_deg"] < 0.05
    # the samples ride up: the ascender's mass at cut-off is its wet mass plus the samples minus
    # the propellant burnt
    leg = next(p for p in result.phases if p.leg_type == "lunar_ascent")
    wet = scenario.modules["ascender"].mass_kg + s["surface.sample_mass_g"] / 1e3
    assert leg.module_masses["ascender"] == pytest.approx(wet - s["ascent.propellant_kg"], abs=1e-6)
    assert leg.final_state.mass == pytest.approx(wet - s["ascent.propellant_kg"], abs=1e-6)
    names = {e["event"] for e in result.events if e["phase"] == "ascent"}
    assert "liftoff" in names and "launch_window" in names


def test_apollo_like_ascent_flies_from_toml_alone():
    """Apollo 11 LM ascent (values as commonly quoted, ASSUMPTIONS in the scenario): ~7 min 15 s
    to a ~17 × 83 km insertion."""
    result = run(gh.load_scenario(scenario_path("apollo-like-ascent")))
    assert result.completed, result.reason
    s = result.summary
    _print("Apollo-like", s)
    assert s["ascent.burn_time_s"] == pytest.approx(435.0, rel=0.10)
    assert s["ascent.insertion_periapsis_km"] == pytest.approx(16.9, abs=1.0)
    assert s["ascent.insertion_apoapsis_km"] == pytest.approx(82.7, abs=3.0)
    assert s["ascent.ground_loop_failure_rate"] is not None


def _apollo_with(tmp_path, *mutations):
    data = scenario_data("apollo-like-ascent")
    for m in mutations:
        m(data)
    path = tmp_path / "bad.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    return gh.load_scenario(path)


@pytest.mark.parametrize("mutation, field, words", [
    (set_("modules.lm_ascent_stage.engines.ascent.thrust_n", 6000.0),
     "modules.lm_ascent_stage.engines.ascent.thrust_n", "thrust-to-weight"),
    (set_("phases.0.target.periapsis_altitude_km", 1.0), "phases[0].target.periapsis_altitude_km", "terrain"),
    (set_("modules.lm_ascent_stage.propellant_kg", 800.0), "modules.lm_ascent_stage.propellant_kg", "short of"),
])
def test_impossible_ascent_is_refused_naming_the_numbers(tmp_path, mutation, field, words):
    with pytest.raises(ScenarioError) as err:
        run(_apollo_with(tmp_path, mutation))
    assert err.value.field == field, err.value.field
    assert words in str(err.value) and any(c.isdigit() for c in err.value.reason)


def test_an_ascent_short_of_propellant_is_a_logged_failure(tmp_path):
    """Enough propellant for the ideal Δv but not for the losses: the ascent flies, runs dry, and
    the mission fails (exit 3) with the reason."""
    result = run(_apollo_with(tmp_path, set_("modules.lm_ascent_stage.propellant_kg", 1900.0)))
    assert not result.completed and result.failed_leg == "ascent"
    assert result.reason
