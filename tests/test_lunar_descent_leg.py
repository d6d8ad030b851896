"""The lunar-descent leg (issue 9): Chang'e-5 and Chang'e-6 fly from the lander separation through
orbit lowering and powered descent to touchdown (session fixtures, flown once); an Apollo-like LM
lands from TOML alone; bad input is refused naming the field and the numbers; ``guanghan site``.

Published figures ([CE5-CD1202], [CE6-WM], [CE5-LROC], [CE6-LROC] in validation/missions.md):
Chang'e-5 touchdown 2020-12-01 15:11 UTC at 43.0576 N, 51.9161 W; Chang'e-6 touchdown 2024-06-01
22:23:16 UTC at 41.6385 S, 153.9852 W. The 50-terrain hazard-avoidance statistics are in
tests/test_hazard_detection.py.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from helpers import scenario_data, scenario_path, set_
from typer.testing import CliRunner

import guanghan as gh
from guanghan.analysis.validation import validation_rows
from guanghan.cli import app
from guanghan.environment import time_scales
from guanghan.errors import ScenarioError
from guanghan.gnc.landing_site_ranking import flat_fraction
from guanghan.mission.leg import LEGS, LegContext
from guanghan.mission.scenario import dumps_toml

KEYS = ["descent.start_utc", "descent.duration_s", "descent.propellant_kg", "descent.delta_v_m_s",
        "descent.hover_altitude_m", "descent.divert_m", "lunar_landing.utc",
        "lunar_landing.lat_deg", "lunar_landing.lon_deg", "lunar_landing.miss_m",
        "lunar_landing.touchdown_speed_m_s", "lunar_landing.slope_deg",
        "lunar_landing.hazard_free", "lunar_landing.mass_kg"]
EVENTS = ["separation", "orbit_lowering_1_start", "orbit_lowering_1_end", "orbit_lowering_2_start",
          "orbit_lowering_2_end", "powered_descent_start", "descent_phase_change",
          "approach_hazard_map_ready", "approach_site_chosen", "hazard_map_ready", "divert_chosen",
          "engine_cutoff", "touchdown"]


def _report(name, result):
    s = result.summary
    print(f"\n{name}: descent {s['descent.start_utc']} → touchdown {s['lunar_landing.utc']} "
          f"({s['descent.duration_s']:.0f} s), miss {s['lunar_landing.miss_m']:.1f} m, "
          f"propellant {s['descent.propellant_kg']:.0f} kg (+{s['descent.lowering_propellant_kg']:.0f} "
          f"kg lowering, margin {s['descent.propellant_margin_kg']:.0f} kg), Δv "
          f"{s['descent.delta_v_m_s']:.0f} m/s, hazard-free {s['lunar_landing.hazard_free']}, "
          f"slope {s['lunar_landing.slope_deg']:.1f}°, {s['lunar_landing.touchdown_speed_m_s']:.2f} m/s")


@pytest.mark.parametrize("fixture, published, site", [
    ("ce5_run", "2020-12-01T15:11:00Z", (43.0576, -51.9161)),     # [CE5-CD1202] [CE5-LROC]
    ("ce6_run", "2024-06-01T22:23:16Z", (-41.6385, -153.9852)),   # [CE6-WM] [CE6-LROC]
])
def test_mission_lands_from_the_separation(request, fixture, published, site):
    scenario, result = request.getfixturevalue(fixture)
    _report(scenario.mission.name, result)
    s = result.summary
    assert [k for k in KEYS if k not in s] == []
    assert result.meta["legs"]["lunar_descent"] == "lunar_descent"
    i = [p.name for p in result.phases].index("lunar_descent")
    previous = result.phases[i - 1]               # CE-5 coasts to the separation, CE-6 adjusts its orbit
    assert previous.leg_type in ("lunar_orbit_coast", "lunar_orbit_adjustment")
    assert time_scales.utc_to_et(s["lunar_descent.separation_utc"]) == pytest.approx(previous.final_state.et,
                                                                                       abs=1e-3)
    assert s["descent.start_utc"].startswith(scenario.phases[i].powered_descent_utc[:16])
    # the bounds: touchdown within 3 min, within 2 km of the LROC site
    dt = time_scales.utc_to_et(s["lunar_landing.utc"]) - time_scales.utc_to_et(published)
    assert abs(dt) <= 180.0
    assert s["lunar_landing.miss_m"] <= 2000.0
    assert abs(s["lunar_landing.lat_deg"] - site[0]) < 0.05
    assert abs(s["lunar_landing.lon_deg"] - site[1]) < 0.05
    assert s["lunar_landing.hazard_free"] is True and s["lunar_landing.slope_deg"] < 8.0
    assert s["lunar_landing.touchdown_speed_m_s"] < 4.0
    assert 0.0 < s["descent.total_propellant_kg"] <= s["descent.propellant_budget_kg"]
    assert s["descent.hover_altitude_m"] == pytest.approx(100.0, abs=5.0)
    assert abs(s["descent.start_height_error_m"]) < 100.0
    events = [e["event"] for e in result.events if e["phase"] == "lunar_descent"]
    assert [e for e in EVENTS if e not in events] == []
    for k in ("descent", "approach_hazard_map", "hazard_map", "orbiter"):
        assert result.series[f"lunar_descent.{k}"].num_rows > 0
    assert s["descent.approach_retarget_m"] <= scenario.phases[i].hazard.coarse_divert_radius_m + 2.0
    assert s["lunar_descent.approach_safe_area_fraction"] >= \
        s["lunar_descent.approach_safe_area_fraction_at_aim"]
    # the lander stands on the Moon; the orbiter-returner flew on to the touchdown epoch
    final = result.phases[i].final_state
    assert final.body == "MOON" and final.frame == "J2000"
    orbiter = result.series["lunar_descent.orbiter"]
    assert orbiter.column("utc")[-1].as_py()[:19] == s["lunar_landing.utc"][:19]
    assert min(orbiter.column("altitude_km").to_pylist()) > 150.0
    lander_left = result.meta["module_masses_kg"]["lander"]
    assert lander_left == pytest.approx(scenario.modules["lander"].mass_kg
                                        - s["descent.total_propellant_kg"])
    rows = {r["key"]: r for r in validation_rows(scenario, s)}
    for key in ("lunar_landing.utc", "lunar_landing.miss_m"):
        assert rows[key]["status"] == "pass", rows[key]


def test_apollo_like_lander_lands_from_toml_alone():
    scenario = gh.load_scenario(scenario_path("apollo-like-descent"))
    result = gh.run(scenario)
    _report("Apollo-like", result)
    s = result.summary
    assert result.completed, result.reason
    assert s["lunar_landing.hazard_free"] is True and s["lunar_landing.miss_m"] < 100.0
    assert 6000.0 < s["descent.propellant_kg"] < 8250.0
    assert s["lunar_landing.touchdown_speed_m_s"] < 3.0


def _ce5_with(tmp_path, *mutations):
    data = scenario_data("chang-e-5")
    for m in mutations:
        m(data)
    path = tmp_path / "bad.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    return gh.load_scenario(path)


def _fly_descent(scenario, ce5_run):
    """Fly only the descent leg of ``scenario`` from the session run's separation state."""
    _, result = ce5_run
    i = scenario.phase_index("lunar_descent")
    prev = result.phases[i - 1].final_state
    masses = {name: m.mass_kg for name, m in scenario.modules.items()}
    return LEGS["lunar_descent"].fly(scenario.phases[i], LegContext(scenario, i, prev, masses))


@pytest.mark.parametrize("mutation, field, words", [
    (set_("phases.2.lander.hover_altitude_m", 20000.0), "phases[2].lander.hover_altitude_m", ""),
    (set_("phases.2.lander.min_throttle", 1.2), "phases[2].lander.min_throttle", ""),
    (set_("phases.2.profile.braking_end_altitude_m", 9000.0),
     "phases[2].profile.braking_end_altitude_m", ""),
    (set_("phases.2.remaining_vehicle", "lander_ascender"), "phases[2].remaining_vehicle", "shares"),
    (set_("phases.2.engine", "orbiter.main"), "phases[2].engine", "no engine"),
    # the camera map must be taken in the approach, below the braking gate
    (set_("phases.2.hazard.coarse_decision_height_m", 3000.0),
     "phases[2].hazard.coarse_decision_height_m", "between"),
    (set_("phases.2.hazard.coarse_divert_radius_m", 200.0), "phases[2].hazard.divert_radius_m",
     "inside the half-side"),
    # a coast that ends after the descent's start is refused before a year-long propagation
    (set_("phases.1.end_utc", "2020-12-02T00:00:00Z"), "phases[1].end_utc", "must start later"),
    # a coast of fixed duration after the transfer: its end is known only as at or after the last LOI
    (lambda d: (d["phases"][1].pop("end_utc"), d["phases"][1].update(duration_h=8760.0)),
     "phases[1].duration_h", "must start later"),
])
def test_bad_descent_config_is_refused_on_load(tmp_path, mutation, field, words):
    extra = [set_("phases.2.orbit_lowering.periapsis_altitude_km", 8.0)] \
        if "braking" in field else []
    with pytest.raises(ScenarioError) as err:
        _ce5_with(tmp_path, mutation, *extra)
    assert err.value.field == field and words in err.value.reason


@pytest.mark.parametrize("mutation, field, numbers", [
    # an engine that cannot hover the 3740 kg lander-ascender (6,080 N of lunar weight)
    (set_("modules.lander.engines.descent.thrust_n", 5000.0),
     "modules.lander.engines.descent.thrust_n", ["5000 N", "3740.0 kg"]),
    # the site in darkness: two weeks later it is lunar night at 43 N, 52 W
    (set_("phases.2.powered_descent_utc", "2020-12-14T14:57:00Z"), "phases[2].powered_descent_utc",
     ["below min_sun_elevation_deg"]),
])
def test_impossible_descent_is_refused_before_flying(tmp_path, ce5_run, mutation, field, numbers):
    scenario = _ce5_with(tmp_path, mutation)
    with pytest.raises(ScenarioError) as err:
        _fly_descent(scenario, ce5_run)
    assert err.value.field == field
    assert all(n in err.value.reason for n in numbers), err.value.reason


@pytest.mark.parametrize("mutation, field, numbers", [
    # propellant short of the computed need (the lander keeps its dry mass)
    (set_("modules.lander.propellant_kg", 1200.0), "modules.lander.propellant_kg",
     ["1200.0 kg of propellant", "needs ~"]),
    # a minimum throttle too high to hover at the end: 0.6 × 7500 N over ~1.8 t × 1.62 m/s²
    (set_("phases.2.lander.min_throttle", 0.6), "phases[2].lander.min_throttle",
     ["min thrust 4500.0 N exceeds the weight"]),
])
def test_infeasible_descent_is_refused_naming_the_numbers(tmp_path, ce5_run, mutation, field,
                                                          numbers):
    scenario = _ce5_with(tmp_path, mutation)
    with pytest.raises(ScenarioError) as err:
        _fly_descent(scenario, ce5_run)
    assert err.value.field == field
    assert all(n in err.value.reason for n in numbers), err.value.reason


def test_site_command_ranks_a_small_area(tmp_path):
    out = tmp_path / "sites"
    res = CliRunner().invoke(app, ["site", "chang-e-5", "--area", "42.6", "43.4", "-52.4", "-51.4",
                                   "--out", str(out), "--top", "3"])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out / "site_ranking.parquet")
    assert table.num_rows > 20 and b"scale_note" in table.schema.metadata
    scores = table.column("score").to_pylist()
    assert scores == sorted(scores)
    assert "not the slope under a lander footprint" in res.output
    assert "within 100 km of landing_site" in res.output
    bad = CliRunner().invoke(app, ["site", "chang-e-5", "--area", "95", "43", "-52", "-51"])
    assert bad.exit_code == 2 and "lat_deg" in bad.output


def test_far_side_site_has_less_flat_ground_than_the_near_side():
    """The issue's "more rugged, fewer flat areas" as a number, at the DEM's scale."""
    ce6 = flat_fraction(-41.6385, -153.9852, 100.0, 2.0)
    ce5 = flat_fraction(43.0576, -51.9161, 100.0, 2.0)
    print(f"\nflat (DEM slope < 2°) within 100 km: Chang'e-5 site {100 * ce5:.1f} %, "
          f"Chang'e-6 site {100 * ce6:.1f} %")
    assert ce6 < ce5


def test_a_stored_lowering_flies_only_from_the_state_it_was_solved_from():
    """``--design-from`` flies the stored lowering burns from the separation state they were solved
    from (bit for bit: the same propagation); from any other state (a campaign sample's) it
    declines, and the leg solves again (event ``lowering_redesigned``)."""
    import numpy as np

    from guanghan.dynamics.forces import CentralGravity, FiniteBurn, ForceModel
    from guanghan.dynamics.propagator import propagate
    from guanghan.dynamics.state import SpacecraftState
    from guanghan.gnc.orbit_lowering import LoweringDesign, stored_lowering
    from guanghan.mission.legs.lunar_descent.packing import TOLERANCES

    mu, r = 4.9028e12, 1937.4e3
    et0 = time_scales.utc_to_et("2020-12-01T00:00:00Z")
    start = SpacecraftState.from_vector(et0, np.array([r, 0, 0, 0, (mu / r) ** 0.5, 0, 3780.0]))
    model = ForceModel(CentralGravity("MOON", mu, None))
    burn = FiniteBurn(et0 + 600.0, 20.0, 7500.0, 310.0, "retrograde")
    design = LoweringDesign(start, [burn], {"cross_track_m": 12.5})
    low = stored_lowering(start, model, design, et0 + 3600.0, TOLERANCES)
    direct = propagate(start, et0 + 3600.0, model.__class__(model.central, burns=[burn]), TOLERANCES)
    assert np.array_equal(low.state_pdi.vector, direct.trajectory.final_state)
    assert low.figures == {"cross_track_m": 12.5} and low.state_pdi.et == et0 + 3600.0
    for moved in (np.r_[start.r + [2.0, 0, 0], start.v, start.mass], np.r_[start.r, start.v + [0, 0.01, 0], start.mass],
                  np.r_[start.r, start.v, start.mass - 0.5]):
        assert stored_lowering(SpacecraftState.from_vector(et0, moved), model, design, et0 + 3600.0,
                               TOLERANCES) is None
