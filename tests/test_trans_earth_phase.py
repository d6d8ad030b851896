"""The trans-Earth phase in a scenario: bad input named by field, the return flown end to end from
``chang-e-5-return.toml`` into the entry phase, and a targeting failure ending the mission cleanly.

Truth: the published Chang'e-5 return epochs ([CE5-CCTV], [CE5-TW], [CE5-CD1217] in the project's
validation notes), and continuity of the state handed from one phase to the next.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

import guanghan as gh
from guanghan.analysis.validation import validation_rows
from guanghan.environment import time_scales
from guanghan.errors import GuidanceFailure, ScenarioError
from guanghan.mission.scenario import dumps_toml, load_scenario

from helpers import scenario_path
from helpers import set_ as _set

RETURN = scenario_path("chang-e-5-return")

ISSUE_KEYS = ("tei.delta_v_m_s", "return.mcc_delta_v_m_s", "entry.interface_utc", "entry.interface_speed_m_s",
              "entry.interface_fpa_deg", "entry.skip_apogee_km", "entry.peak_g", "entry.peak_heat_flux_w_m2",
              "entry.heat_load_j_m2", "entry.downrange_km", "earth_landing.utc", "earth_landing.lat_deg",
              "earth_landing.lon_deg", "earth_landing.miss_km")
ISSUE_EVENTS = {"tei1_start", "tei1_end", "tei2_start", "tei2_end", "mcc1", "mcc2", "separation",
                "orbiter_divert", "entry_interface", "skip_exit", "second_entry", "drogue_deploy",
                "main_deploy", "touchdown"}


def _data() -> dict:
    return tomllib.loads(RETURN.read_text(encoding="utf-8"))


def _load(tmp_path, data) -> object:
    path = tmp_path / "case.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    return load_scenario(path)


BAD = [
    ("unknown_engine", _set("phases.0.tei_2.engine", "orbiter.thruster_400n"), "phases[0].tei_2.engine",
     "orbiter.thruster_150n"),
    ("tei2_before_tei1", _set("phases.0.tei_2.utc", "2020-12-11T01:51:00Z"), "phases[0].tei_2.utc", "TEI-1"),
    ("mcc_after_entry", _set("phases.0.midcourse.utc", ["2020-12-14T03:13:00Z", "2020-12-17T01:15:00Z"]),
     "phases[0].entry_target.utc", "midcourse.utc[1]"),
    ("separation_below_interface", _set("phases.0.separation.altitude_km", 100.0),
     "phases[0].separation.altitude_km", "entry interface"),
    ("propellant_above_the_load", _set("phases.0.start_propellant_kg.orbiter", 5000.0),
     "phases[0].start_propellant_kg.orbiter", "propellant load"),
    ("propellant_of_a_foreign_module", _set("phases.0.start_propellant_kg.lander", 10.0),
     "phases[0].start_propellant_kg", "not part of vehicle"),
    ("downrange_band_empty", _set("phases.0.entry_target.downrange_max_km", 4000.0),
     "phases[0].entry_target.downrange_max_km", "downrange_min_km"),
    ("entry_climbing", _set("phases.0.entry_target.fpa_deg", 3.0), "phases[0].entry_target.fpa_deg", "descends"),
    ("unknown_returner", _set("phases.0.separation.returner_vehicle", "capsule"),
     "phases[0].separation.returner_vehicle", "returner"),
    ("earth_site_on_moon", _set("sites.earth_landing_zone.body", "MOON"), "phases[0].site", "Earth"),
]


@pytest.mark.parametrize("case_id, mutate, field, token", BAD, ids=[c[0] for c in BAD])
def test_bad_return_input_names_the_field(tmp_path, case_id, mutate, field, token):
    data = _data()
    mutate(data)
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, data)
    assert info.value.field == field
    assert token in info.value.reason


def test_first_return_phase_needs_a_start(tmp_path):
    data = _data()
    del data["phases"][0]["parking_orbit"]
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, data)
    assert info.value.field == "phases[0].parking_orbit"


def test_parking_orbit_and_elements_are_exclusive(tmp_path):
    data = _data()
    data["phases"][0]["start_utc"] = "2020-12-12T01:00:00Z"
    data["phases"][0]["initial_orbit"] = {"frame": "MOON_ME", "periapsis_altitude_km": 200.0,
                                          "apoapsis_altitude_km": 200.0, "inclination_deg": 45.0}
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, data)
    assert info.value.field == "phases[0].initial_orbit"


def test_targeting_failure_ends_the_mission_with_a_logged_reason(monkeypatch):
    def failing(*args, **kwargs):
        raise GuidanceFailure("tei2", "TEI-2 targeting did not converge (test)")

    from guanghan.mission.legs.trans_earth import flight
    monkeypatch.setattr(flight, "design_parking_orbit", failing)   # fails before any flight
    result = gh.run(load_scenario(RETURN))
    kinds = [e["event"] for e in result.events]
    assert kinds == ["guidance_failure", "mission_aborted"]
    assert result.events[0]["details"]["reason"].startswith("TEI-2 targeting")
    assert result.events[1]["details"]["phases_not_flown"] == ["entry"]
    assert result.summary["mission.aborted_in_phase"] == "trans_earth"


@pytest.fixture(scope="module")
def flown(ce5_run):
    """The session's full Chang'e-5 run: its return is the phase this file is about."""
    return ce5_run


RETURN_GROUPS = {"trans_earth", "tei", "return", "entry", "earth_landing"}


def test_return_logs_every_event_and_figure_the_issue_names(flown):
    _, result = flown
    assert ISSUE_EVENTS <= {e["event"] for e in result.events}
    missing = [k for k in ISSUE_KEYS if k not in result.summary]
    assert not missing
    assert all(k.count(".") == 1 for k in result.summary)


#: validation rows that fail for a stated reason (the scenario and the issue note say why)
KNOWN_DISCREPANCIES = {
    # ~18 min against the published ~22 min: with 600 N at 290 s the stack would have to weigh
    # ~2,750 kg before TEI-2, which the published 8,200 kg launch mass cannot close with the other
    # modules; the real thrusters may be canted (less axial thrust). Not tuned away.
    "trans_earth.tei2_duration_s",
}


def test_published_return_epochs_and_landing_accuracy(flown):
    scenario, result = flown
    rows = [r for r in validation_rows(scenario, result.summary)
            if r["key"].split(".", 1)[0] in RETURN_GROUPS]
    failed = [(r["key"], r["simulated"], r["difference"]) for r in rows
              if r["status"] != "pass" and r["key"] not in KNOWN_DISCREPANCIES]
    assert not failed
    keys = {r["key"] for r in rows}
    assert {"entry.interface_utc", "earth_landing.utc", "earth_landing.miss_km"} <= keys


def test_entry_starts_where_the_return_ends(flown):
    _, result = flown
    t = result.trajectory
    phase = np.array(t.column("phase").to_pylist())
    xyz = np.column_stack([t.column(c).to_numpy() for c in ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")])
    et = t.column("et_s").to_numpy()
    last_return = np.flatnonzero(phase == "trans_earth")[-1]
    first_entry = np.flatnonzero(phase == "entry")[0]
    assert et[first_entry] == pytest.approx(et[last_return], abs=1e-6)
    assert np.linalg.norm(xyz[first_entry, :3] - xyz[last_return, :3]) < 1.0          # m
    assert np.linalg.norm(xyz[first_entry, 3:] - xyz[last_return, 3:]) < 1e-3         # m/s
    assert result.summary["trans_earth.entry_interface_utc"] == result.summary["entry.interface_utc"]


def test_return_legs_switch_from_moon_to_earth_once_and_mass_drops_only_in_burns(flown):
    _, result = flown
    t = result.trajectory
    rows = np.array(t.column("phase").to_pylist()) == "trans_earth"
    body = np.array(t.column("body").to_pylist())[rows]
    switches = np.flatnonzero(body[1:] != body[:-1])
    assert body[0] == "MOON" and body[-1] == "EARTH" and len(switches) == 1
    # the Moon-centred to Earth-centred switch is at the scenario's 66,000 km from the Moon
    et = t.column("et_s").to_numpy()[rows]
    soi = [e for e in result.events if e["event"] == "soi_exit"]
    assert soi and abs(time_scales.utc_to_et(soi[0]["utc"]) - et[switches[0] + 1]) < 1.0
    mass = t.column("mass_kg").to_numpy()[rows]
    samples = result.summary.get("rendezvous.transferred_mass_kg", 0.0)   # moved into the returner
    # the masses flow from launch: the stack after LOI, less the lander and ascender (2940 + 800 kg)
    # and the orbiter's propellant of the close-range approach, plus the samples
    s = result.summary
    assert mass[0] == pytest.approx(s["lunar_orbit_coast.final_mass_kg"] - 3740.0
                                    - s["rendezvous.proximity_propellant_kg"] + samples)
    assert mass[-1] == pytest.approx(300.0 + samples)    # the returner alone at the interface
    assert np.all(np.diff(mass) <= 1e-9)


def test_a_return_short_of_propellant_fails_naming_the_numbers(tmp_path):
    """The return's burns are solved for their aims; a return needing more than the orbiter holds
    ends the mission (exit 3 class: a failed leg) naming the module and the numbers."""
    data = _data()
    data["phases"][0]["start_propellant_kg"]["orbiter"] = 600.0
    result = gh.run(_load(tmp_path, data))
    assert not result.completed and result.failed_leg == "trans_earth"
    assert "held 600.0 kg" in result.reason and "kg short" in result.reason
    assert any(e["event"] == "propellant_exhausted" for e in result.events)


def test_returner_mass_flows_into_the_stack(tmp_path):
    """The stack's mass is the sum of its modules': 50 kg more returner is 50 kg more stack."""
    from guanghan.mission.leg import LegContext
    data = _data()
    data["modules"]["returner"]["dry_mass_kg"] += 50.0
    sc = _load(tmp_path, data)
    masses = {m: mod.mass_kg for m, mod in sc.modules.items()}
    masses["orbiter"] = sc.modules["orbiter"].dry_mass_kg + 803.0
    ctx = LegContext(sc, 0, None, masses)
    assert ctx.vehicle_mass_kg("orbiter_returner_stack") == pytest.approx(2503.0 + 50.0)
    assert ctx.vehicle_mass_kg("returner") == pytest.approx(350.0)
