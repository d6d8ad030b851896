"""Every input either runs sensibly or is refused (issue 8): each absurd-but-well-formed value the
hostile test found is refused up front with a message naming the field and the bound; leap
seconds are accepted where they exist; epochs outside a data source name the source and its span;
a leg over its budget ends as a mission failure."""

from __future__ import annotations

import copy

import pytest

import guanghan as gh
from guanghan.errors import ScenarioError
from guanghan.mission.scenario import validate_scenario

from helpers import scenario_data

ENTRY = scenario_data("chang-e-5-entry")
COAST = scenario_data("apollo-like-coast")
RETURN = scenario_data("chang-e-5-return")


def _set(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = data
    for key in head:
        node = node[key] if isinstance(key, int) else node.setdefault(key, {})
    node[last] = value
    return data


def _module(data: dict) -> str:
    return next(iter(data["modules"]))


# (scenario, dotted path, value, field named in the error, a word the message must contain)
CASES = [
    (COAST, "modules.{m}.dry_mass_kg", 1e30, "modules.{m}.dry_mass_kg", "1e7"),
    (COAST, "modules.{m}.dry_mass_kg", 1e-30, "modules.{m}.dry_mass_kg", "0.1"),
    (COAST, "modules.{m}.propellant_kg", 1e30, "modules.{m}.propellant_kg", "1e7"),
    (COAST, "phases.0.propagation.rtol", 0.5, "phases[0].propagation.rtol", "1e-3"),
    (COAST, "phases.0.duration_h", 1e6, "phases[0].duration_h", "year"),
    (COAST, "phases.0.initial_orbit.apoapsis_altitude_km", 1e9, "phases[0].initial_orbit.apoapsis_altitude_km",
     "Hill"),
    (ENTRY, "phases.0.entry_interface.speed_m_s", 30_000.0, "phases[0].entry_interface.speed_m_s", "hyperbolic"),
    (ENTRY, "phases.0.entry_interface.speed_m_s", 3_000.0, "phases[0].entry_interface.speed_m_s", "from orbit"),
    (ENTRY, "phases.0.entry_interface.speed_m_s", 1.0, "phases[0].entry_interface.speed_m_s", "from orbit"),
    (ENTRY, "phases.0.entry_interface.fpa_deg", 5.0, "phases[0].entry_interface.fpa_deg", "climbing"),
    (ENTRY, "phases.0.entry_interface.fpa_deg", 0.0, "phases[0].entry_interface.fpa_deg", "climbing"),
    (ENTRY, "phases.0.entry_interface.altitude_km", 11.0, "phases[0].entry_interface.altitude_km", "80"),
    (ENTRY, "phases.0.entry_interface.altitude_km", 400.0, "phases[0].entry_interface.altitude_km", "200"),
    (ENTRY, "phases.0.entry_interface.utc", "2300-01-01T00:00:00Z", "phases[0].entry_interface.utc",
     "ITRF93"),
    (ENTRY, "phases.0.entry_interface.utc", "2049-06-01T00:00:00Z", "phases[0].entry_interface.utc",
     "space-weather"),
    (ENTRY, "phases.0.entry_interface.utc", "2017-06-30T23:59:60Z", "phases[0].entry_interface.utc",
     "leap second"),
    (ENTRY, "phases.0.capsule.lift_to_drag", 5.0, "phases[0].capsule.lift_to_drag", "lifting body"),
    (ENTRY, "phases.0.parachutes.drogue_cd_area_m2", 1e30, "phases[0].parachutes.drogue_cd_area_m2", "500"),
    (ENTRY, "phases.0.parachutes.drogue_cd_area_m2", 1e-30, "phases[0].parachutes.drogue_cd_area_m2", "0.01"),
    (ENTRY, "phases.0.parachutes.drogue_cd_area_m2", 0.01, "phases[0].parachutes.drogue_cd_area_m2",
     "no main canopy survives"),
    (ENTRY, "phases.0.parachutes.main_cd_area_m2", 1e30, "phases[0].parachutes.main_cd_area_m2", "5,000"),
    (ENTRY, "phases.0.parachutes.main_cd_area_m2", 0.5, "phases[0].parachutes.main_cd_area_m2",
     "no capsule survives"),
    (ENTRY, "phases.0.parachutes.wind_east_m_s", 1e30, "phases[0].parachutes.wind_east_m_s", "100"),
    (ENTRY, "phases.0.atmosphere", {"f107_sfu": 1e6}, "phases[0].atmosphere.f107_sfu", "500"),
    (ENTRY, "phases.0.step_s", 1e-4, "phases[0].step_s", "0.01"),
    (ENTRY, "phases.0.capsule.reference_area_m2", 1e30, "phases[0].capsule.reference_area_m2", "1,000"),
    (ENTRY, "modules.returner.dry_mass_kg", 1e-6, "modules.returner.dry_mass_kg", "0.1"),
    (ENTRY, "modules.returner.dry_mass_kg", 1.0, "phases[0].capsule.reference_area_m2", "ballistic"),
    (ENTRY, "sites.earth_landing_zone.altitude_m", 1e30, "sites.earth_landing_zone.altitude_m", "20"),
    (RETURN, "phases.0.force_models.rtol", 0.5, "phases[0].force_models.rtol", "1e-08"),
    (RETURN, "phases.0.entry_target.altitude_km", 11.0, "phases[0].entry_target.altitude_km", "80"),
]


@pytest.mark.parametrize("data, path, value, field, word", CASES,
                         ids=[f"{c[1].split('.')[-1]}={c[2]}" for c in CASES])
def test_absurd_values_are_refused_naming_field_and_bound(data, path, value, field, word):
    m = _module(data)
    with pytest.raises(ScenarioError) as err:
        validate_scenario(_set(data, path.format(m=m), value))
    assert err.value.field == field.format(m=m), str(err.value)
    assert word in err.value.reason, str(err.value)


def test_a_real_leap_second_is_a_valid_epoch():
    data = _set(ENTRY, "phases.0.entry_interface.utc", "2016-12-31T23:59:60Z")
    data["phases"][0]["atmosphere"] = {"f107_sfu": 80.0, "f107a_sfu": 80.0, "ap": 5.0}
    sc = validate_scenario(data)
    assert sc.phases[0].entry_interface.utc == "2016-12-31T23:59:60Z"


def test_an_explicit_offset_is_converted_and_a_naive_time_refused():
    sc = validate_scenario(_set(ENTRY, "phases.0.entry_interface.utc", "2020-12-17T01:33:00+08:00"))
    assert sc.phases[0].entry_interface.utc == "2020-12-16T17:33:00Z"
    with pytest.raises(ScenarioError) as err:
        validate_scenario(_set(ENTRY, "phases.0.entry_interface.utc", "2020-12-16T17:33:00"))
    assert err.value.field == "phases[0].entry_interface.utc"


def test_a_leg_over_its_step_budget_ends_as_a_mission_failure():
    data = _set(COAST, "phases.0.limits", {"max_steps": 100})
    result = gh.run(validate_scenario(data))
    assert not result.completed and "100 integration steps" in result.reason
    assert [e["event"] for e in result.events][-2:] == ["run_limit_exceeded", "mission_aborted"]
