"""Bad scenario input: each case raises ONE ScenarioError naming the file, the field and the value.

Each case starts from a valid scenario dict, breaks one thing, writes it as TOML and loads the file.
Tests check the exception type, ``.file``, ``.field`` and ``.value``; where the message must point
the way out (a unit, the defined names, a normalised longitude), that token is checked too.
"""

from __future__ import annotations

import datetime as dt

import pytest

from guanghan.environment import spice_kernels
from guanghan.errors import ScenarioError
from guanghan.mission.scenario import dumps_toml, load_scenario

from helpers import both as _both
from helpers import drop as _drop
from helpers import minimal_dict
from helpers import rename as _rename
from helpers import set_ as _set










def _load_broken(tmp_path, mutate) -> ScenarioError:
    data = minimal_dict()
    mutate(data)
    path = tmp_path / "broken.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    assert info.value.file == str(path)
    return info.value


def test_the_unbroken_dict_loads(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(dumps_toml(minimal_dict()), encoding="utf-8")
    assert load_scenario(path).phases[0].name == "first"


ORBIT = "phases[0].initial_orbit"
STATE = {"frame": "J2000", "position_km": [1837.4, 0.0, 0.0], "velocity_km_s": [0.0, 1.63, 0.0]}
CASES = [
    # id, mutation, expected field, expected value, token the reason must contain (or None)
    ("unknown_key", _set("sites.crater.colour", "grey"), "sites.crater.colour", "grey", None),
    ("unit_suffix_thrust", _rename("modules.bus.engines.main.thrust_n", "thrust_kn"),
     "modules.bus.engines.main.thrust_kn", 500.0, "thrust_n"),
    ("unit_suffix_duration", _rename("phases.0.duration_h", "duration_days"),
     "phases[0].duration_days", 2.5, "duration_h"),
    ("missing_field", _drop("modules.probe.dry_mass_kg"), "modules.probe.dry_mass_kg", None, None),
    ("string_for_number", _set("modules.bus.dry_mass_kg", "1000"), "modules.bus.dry_mass_kg",
     "1000", None),
    ("zero_mass", _set("modules.bus.dry_mass_kg", 0.0), "modules.bus.dry_mass_kg", 0.0, None),
    ("negative_mass", _set("modules.probe.dry_mass_kg", -5.0), "modules.probe.dry_mass_kg", -5.0,
     None),
    ("negative_propellant", _set("modules.bus.propellant_kg", -0.1), "modules.bus.propellant_kg",
     -0.1, None),
    ("zero_thrust", _set("modules.bus.engines.main.thrust_n", 0.0),
     "modules.bus.engines.main.thrust_n", 0.0, None),
    ("negative_isp", _set("modules.probe.engines.rcs.isp_s", -220.0),
     "modules.probe.engines.rcs.isp_s", -220.0, None),
    ("latitude_beyond_pole", _set("sites.crater.lat_deg", -90.5), "sites.crater.lat_deg", -90.5,
     None),
    ("longitude_0_360", _set("sites.crater.lon_deg", 308.0839), "sites.crater.lon_deg", 308.0839,
     "-51.9161"),
    ("longitude_minus_180", _set("sites.crater.lon_deg", -180.0), "sites.crater.lon_deg", -180.0,
     "180.0"),
    ("unknown_phase_type", _set("phases.1.type", "descent"), "phases[1].type", "descent",
     "lunar_orbit_coast"),
    ("undefined_vehicle", _set("phases.1.vehicle", "lander"), "phases[1].vehicle", "lander",
     "probe_only"),
    ("undefined_site", _set("phases.0.site", "rumker"), "phases[0].site", "rumker", "crater"),
    ("undefined_module", _set("vehicles.stack.modules", ["bus", "tank"]),
     "vehicles.stack.modules[1]", "tank", "probe"),
    ("malformed_utc", _set("mission.epoch_utc", "2021/03/01 00:00"), "mission.epoch_utc",
     "2021/03/01 00:00", None),
    ("impossible_date", _set("timeline.launch_utc", "2021-02-30T06:00:00Z"), "timeline.launch_utc",
     "2021-02-30T06:00:00Z", None),
    ("epoch_after_ephemeris", _set("mission.epoch_utc", "2700-01-01T00:00:00Z"),
     "mission.epoch_utc", "2700-01-01T00:00:00Z", None),
    ("phase_start_before_ephemeris", _set("phases.1.start_utc", "1500-01-01T00:00:00Z"),
     "phases[1].start_utc", "1500-01-01T00:00:00Z", None),
    ("periapsis_below_surface", _set("phases.0.initial_orbit.periapsis_altitude_km", -1.0),
     f"{ORBIT}.periapsis_altitude_km", -1.0, None),
    ("periapsis_at_surface", _set("phases.0.initial_orbit.periapsis_altitude_km", 0.0),
     f"{ORBIT}.periapsis_altitude_km", 0.0, None),
    ("position_inside_moon",
     _both(_drop("phases.0.initial_orbit"),
           _set("phases.0.initial_state", dict(STATE, position_km=[1000.0, 1000.0, 500.0]))),
     "phases[0].initial_state.position_km", [1000.0, 1000.0, 500.0], None),
    ("apoapsis_below_periapsis", _set("phases.0.initial_orbit.apoapsis_altitude_km", 50.0),
     f"{ORBIT}.apoapsis_altitude_km", 50.0, None),
    ("inclination_over_180", _set("phases.0.initial_orbit.inclination_deg", 181.0),
     f"{ORBIT}.inclination_deg", 181.0, None),
    ("order_above_degree", _set("environment.lunar_gravity_order", 21),
     "environment.lunar_gravity_order", 21, None),
    ("degree_above_model_max", _set("environment.lunar_gravity_degree", 166),
     "environment.lunar_gravity_degree", 166, "165"),
    ("unknown_gravity_model", _set("environment.lunar_gravity_model", "GL0660B"),
     "environment.lunar_gravity_model", "GL0660B", "GRGM1200A"),
    ("duplicate_phase_names", _set("phases.1.name", "first"), "phases[1].name", "first", None),
    ("first_phase_without_initial_condition", _drop("phases.0.initial_orbit"),
     "phases[0].initial_orbit", None, None),
    ("both_initial_conditions", _set("phases.0.initial_state", STATE), "phases[0].initial_state",
     STATE, None),
    ("coast_duration_and_end", _set("phases.0.end_utc", "2030-01-01T00:00:00Z"), "phases[0].duration_h",
     2.5, "end_utc"),
    ("coast_neither_duration_nor_end", _drop("phases.0.duration_h"), "phases[0].duration_h", None,
     "end_utc"),
    ("wrong_vector_length", _both(_drop("phases.0.initial_orbit"),
                                  _set("phases.0.initial_state", dict(STATE, velocity_km_s=[1.6]))),
     "phases[0].initial_state.velocity_km_s", [1.6], None),
    ("reflectivity_above_2", _set("vehicles.stack.srp_reflectivity", 2.5),
     "vehicles.stack.srp_reflectivity", 2.5, None),
    ("unknown_event", _set("phases.0.events", ["periapsis", "perilune"]), "phases[0].events[1]",
     "perilune", None),
    ("validation_for_unknown_phase", _set("validation.0.key", "coast.mean_altitude_km"),
     "validation[0].key", "coast.mean_altitude_km", None),
    ("earth_site_for_lunar_coast", _set("sites.crater.body", "EARTH"), "phases[0].site", "crater",
     None),
]


@pytest.mark.parametrize("case_id, mutate, field, value, token", CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_field_and_value(tmp_path, case_id, mutate, field, value, token):
    error = _load_broken(tmp_path, mutate)
    assert error.field == field
    assert error.value == value
    if token is not None:
        assert token in error.reason


def test_epoch_span_is_the_spice_coverage(tmp_path):
    """One second inside each end of the coverage loads; one second outside fails."""
    eph, ori = spice_kernels.ephemeris_coverage(), spice_kernels.lunar_orientation_coverage()
    end_et = min(eph.end_et, ori.end_et)
    inside = spice_kernels.et_to_utc(end_et - 3600.0 * 3 - 1.0, 0)  # the 2.5 h coast fits before
    outside = spice_kernels.et_to_utc(end_et + 1.0, 0)
    mutate_ok = _set("mission.epoch_utc", inside)
    data = minimal_dict()
    mutate_ok(data)
    data["phases"].pop()  # the second phase has no explicit start; keep the check to the first
    path = tmp_path / "edge.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    assert load_scenario(path).mission.epoch_utc == inside
    error = _load_broken(tmp_path, _set("mission.epoch_utc", outside))
    assert (error.field, error.value) == ("mission.epoch_utc", outside)


def test_coast_running_past_the_ephemeris_end(tmp_path):
    end_et = min(spice_kernels.ephemeris_coverage().end_et,
                 spice_kernels.lunar_orientation_coverage().end_et)
    epoch = spice_kernels.et_to_utc(end_et - 3600.0, 0)  # 1 h before the end, coast is 2.5 h
    error = _load_broken(tmp_path, _set("mission.epoch_utc", epoch))
    assert (error.field, error.value) == ("phases[0].duration_h", 2.5)


def test_naive_toml_datetime(tmp_path):
    data = minimal_dict()
    path = tmp_path / "naive.toml"
    path.write_text(dumps_toml(data).replace('"2021-03-01T00:00:00Z"', "2021-03-01T00:00:00"),
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == "mission.epoch_utc"
    assert info.value.value == dt.datetime(2021, 3, 1)


def test_file_not_found(tmp_path):
    missing = str(tmp_path / "nowhere.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    assert (info.value.file, info.value.field, info.value.value) == (missing, None, missing)


def test_toml_syntax_error_gives_the_line(tmp_path):
    lines = dumps_toml(minimal_dict()).splitlines()
    bad_line = next(i for i, text in enumerate(lines) if text.startswith("dry_mass_kg")) + 1
    lines[bad_line - 1] = "dry_mass_kg = = 1000.0"
    path = tmp_path / "syntax.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field is None
    assert info.value.value == bad_line
    assert f"line {bad_line}" in info.value.reason
