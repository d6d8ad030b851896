"""Lunar-orbit adjustment: the circularisation pass and plane trim that put the landing site in the
orbit plane at the powered descent (``gnc.site_plane_adjustment``, leg ``lunar_orbit_adjustment``).

Physics against closed forms on a point-mass Moon (no drift: the plane only moves by the trim), the
packaged Chang'e-6 mission from launch (flown once per session, ``ce6_run``) against the descent
leg's own cross-track figure, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import scenario_data

from guanghan.analysis.legs.lunar_orbit_adjustment import adjustment_figure
from guanghan.dynamics.forces import CentralGravity, ForceModel
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import Engine
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.errors import ScenarioError
from guanghan.gnc.execution_errors import ExecutionErrors
from guanghan.gnc.site_plane_adjustment import (
    AdjustmentProblem,
    periapsis_passes,
    site_offset_rad,
    solve_trim,
)
from guanghan.mission.scenario import validate_scenario

MU = 4.9028e12                       # m³/s²
R_MOON = 1737.4e3
TOL = Tolerances(1e-12, 1e-5, 600.0)
POINT_MASS = ForceModel(CentralGravity("MOON", MU, None))
ET0 = spice_kernels.utc_to_et("2024-05-20T00:00:00Z")


def test_site_offset_is_the_angle_out_of_the_plane():
    y = np.array([2.0e6, 0.0, 0.0, 0.0, 1.6e3, 0.0])          # plane z = 0, h along +z
    for angle in (0.0, 0.3, -1.2, math.pi / 2):
        site = np.array([math.cos(angle), 0.0, math.sin(angle)])
        assert site_offset_rad(y, site) == pytest.approx(angle, abs=1e-12)


def test_periselene_passes_of_a_kepler_orbit_are_a_period_apart():
    """Two-body ellipse 220 × 5,300 km started at apoapsis: passes one Kepler period apart, at
    the periapsis radius (Curtis eq. 2.73)."""
    rp, ra = R_MOON + 220e3, R_MOON + 5300e3
    a = 0.5 * (rp + ra)
    va = math.sqrt(MU * (2.0 / ra - 1.0 / a))
    start = SpacecraftState.from_vector(ET0, np.array([ra, 0, 0, 0, va, 0, 5000.0]))
    period = 2.0 * math.pi * math.sqrt(a ** 3 / MU)
    traj = propagate(start, ET0 + 3.6 * period, POINT_MASS, TOL).trajectory
    passes = periapsis_passes(traj, ET0, ET0 + 3.6 * period)
    assert passes.size == 4
    assert passes[0] - ET0 == pytest.approx(0.5 * period, abs=0.5)
    assert np.diff(passes) == pytest.approx(np.full(3, period), abs=0.5)
    assert np.linalg.norm(traj.states(passes)[:, :3], axis=1) == pytest.approx(np.full(4, rp), abs=1.0)


def test_plane_trim_turns_the_plane_through_the_site_with_the_impulse_of_the_closed_form():
    """Circular 220 km orbit, the site 0.05° off the plane and 90° ahead of the stack (where a
    normal Δv turns it most, and the ~0.8° the 17 s burn sweeps changes ŝ·t̂ only to second order):
    the solved trim puts it in the plane two days later, and its Δv is the impulsive
    v sin δ / (ŝ·t̂) (Curtis §6.12) within 0.2 %."""
    r = R_MOON + 220e3
    v = math.sqrt(MU / r)
    inc = math.radians(137.0)
    h_hat = np.array([0.0, -math.sin(inc), math.cos(inc)])
    r_hat = np.array([1.0, 0.0, 0.0])
    t_hat = np.cross(h_hat, r_hat)
    start = SpacecraftState.from_vector(ET0, np.r_[r * r_hat, v * t_hat, 6300.0])
    delta, ahead = math.radians(0.05), math.radians(90.0)
    in_plane = math.cos(ahead) * r_hat + math.sin(ahead) * t_hat
    site = math.cos(delta) * in_plane + math.sin(delta) * h_hat
    problem = AdjustmentProblem(
        Engine(thrust_n=3000.0, isp_s=315.0), Engine(thrust_n=150.0, isp_s=290.0, count=4), 220e3,
        "pitch_programme", ET0 + 2 * 86400.0, site, (ET0, ET0 + 1.0), ET0, ET0 + 86400.0, 500.0, 50.0,
        ExecutionErrors())
    dv, before, after = solve_trim(start, POINT_MASS, TOL, problem)
    assert before == pytest.approx(delta, abs=1e-9)            # no drift on a point mass
    assert abs(after) < 1e-7                                    # 0.2 m at the surface
    closed_form = v * math.sin(delta) / float(site @ t_hat)
    assert dv == pytest.approx(closed_form, rel=2e-3)


# --------------------------------------------------------------------------- the mission


def test_chang_e_6_from_launch_reaches_the_plane_of_its_site(ce6_run):
    """Transfer, capture, circularisation on the solved pass, trim: the descent leg's own
    propagation (GRGM1200A 50×50 from the separation) finds the site within 50 m of the plane."""
    scenario, result = ce6_run
    s = result.summary
    assert [p.type for p in scenario.phases[:3]] == ["earth_moon_transfer", "lunar_orbit_adjustment",
                                                     "lunar_descent"]
    assert abs(s["descent.start_cross_track_km"]) < 0.05
    assert abs(s["orbit_adjustment.site_offset_km"]) < 0.05
    assert abs(s["orbit_adjustment.predicted_site_offset_deg"]) < 0.2      # passes ~0.07° apart
    assert s["orbit_adjustment.trim_delta_v_m_s"] < 5.0
    assert 200.0 < s["orbit_adjustment.final_periapsis_km"] < s["orbit_adjustment.final_apoapsis_km"] < 240.0
    circ = spice_kernels.utc_to_et(s["orbit_adjustment.circularisation_utc"])
    window = scenario.phases[1].circularisation
    assert spice_kernels.utc_to_et(window.earliest_utc) < circ < spice_kernels.utc_to_et(window.latest_utc)
    masses = result.meta["module_masses_kg"]
    assert masses["orbiter"] > scenario.modules["orbiter"].dry_mass_kg          # the return is covered
    rows = {r["key"]: r for r in result.validation()}
    assert rows["orbit_adjustment.final_periapsis_km"]["status"] == "pass"
    # the scan the report draws: one chosen pass, the least offset of those propagated
    scan = result.series["orbit_adjustment.scan"].to_pylist()
    assert len(scan) == s["orbit_adjustment.passes_scanned_count"] and sum(r["chosen"] for r in scan) == 1
    chosen = next(r for r in scan if r["chosen"])
    assert abs(chosen["site_offset_km"]) == min(abs(r["site_offset_km"]) for r in scan)
    fig = adjustment_figure(result.series["orbit_adjustment.scan"], result.trajectory, result.events,
                            "orbit_adjustment", s, 2000)
    assert [t.name for t in fig.data] == ["pass propagated", "pass flown", "altitude"]


# --------------------------------------------------------------------------- bad input


def _adjustment_case(path: str, value):
    data = scenario_data("chang-e-6")
    record = data["phases"][1]
    *head, last = path.split(".")
    for key in head:
        record = record[key]
    record[last] = value
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data, "chang-e-6.toml")
    return info.value


@pytest.mark.parametrize(("path", "value", "words"), [
    ("circularisation.latest_utc", "2024-05-08T00:00:00Z", "after earliest_utc"),
    ("plane_trim.not_before_utc", "2024-05-20T00:00:00Z", "after circularisation.latest_utc"),
    ("end_utc", "2024-05-26T12:00:00Z", "a day after plane_trim.not_before_utc"),
    ("powered_descent_utc", "2024-05-29T12:00:00Z", "after end_utc"),
    ("plane_trim.engine", "orbiter.thruster_400n", "has no engine"),
    ("circularisation.mean_altitude_km", -5.0, "greater than 0"),
])
def test_bad_adjustment_input_names_the_field(path, value, words):
    err = _adjustment_case(path, value)
    assert err.field.startswith("phases[1].") and err.field.endswith(path.split(".")[-1])
    assert words in err.reason


def test_a_window_without_a_periselene_pass_is_refused_after_the_transfer(tmp_path):
    """One hour of window holds no pass of the ~7.5 h capture ellipse: the run stops with the
    field, before any burn of the leg (exit 2 from the CLI, nothing written)."""
    import guanghan as gh
    from guanghan.mission.scenario import dumps_toml

    data = scenario_data("chang-e-6")
    data["phases"] = data["phases"][:2]
    data.pop("dispersions")                               # they name later phases
    data["validation"] = [r for r in data["validation"]
                          if r["key"].split(".")[0] in ("earth_moon_transfer", "lunar_orbit", "orbit_adjustment")]
    data["phases"][1]["circularisation"]["latest_utc"] = "2024-05-08T07:00:00Z"
    path = tmp_path / "short-window.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        gh.run(gh.load_scenario(path))
    assert info.value.field == "phases[1].circularisation.earliest_utc"
    assert "no periselene pass" in info.value.reason and info.value.value.startswith("2024-05-08T06:00")


def test_the_stored_adjustment_flies_again_and_resolves_only_from_another_state(tmp_path):
    """``--design-from`` of the transfer and the adjustment: the stored pass, circularisation burn
    and trim fly again with every figure of the run that designed them and nothing solved again;
    a stored trim state moved by 2 m has the trim solved again (event ``trim_redesigned``) from
    the same flown state, to the same figures."""
    import json

    import guanghan as gh
    from guanghan.mission.mission_design import parse_design
    from guanghan.mission.runner import run
    from guanghan.mission.scenario import dumps_toml

    data = scenario_data("chang-e-6")
    data["phases"] = data["phases"][:2]
    data.pop("dispersions")                               # they name later phases
    data["validation"] = [r for r in data["validation"]
                          if r["key"].split(".")[0] in ("earth_moon_transfer", "lunar_orbit", "orbit_adjustment")]
    path = tmp_path / "transfer-adjustment.toml"
    path.write_text(dumps_toml(data), encoding="utf-8")
    scenario = gh.load_scenario(path)
    first = run(scenario)
    same = {k: v for k, v in first.summary.items() if "wall" not in k}
    doc = json.loads(first.design.to_json())
    again = run(scenario, design=parse_design(json.dumps(doc), "memory"))
    assert {k: v for k, v in again.summary.items() if "wall" not in k} == same
    assert not any(e["event"].endswith("_redesigned") for e in again.events)
    doc["phases"]["orbit_adjustment"]["data"]["orbit_adjustment"]["trim_from"]["r"][2] += 2.0
    third = run(scenario, design=parse_design(json.dumps(doc), "memory"))
    assert [e["event"] for e in third.events if e["event"].endswith("_redesigned")] == ["trim_redesigned"]
    assert third.summary["orbit_adjustment.site_offset_km"] == pytest.approx(same["orbit_adjustment.site_offset_km"],
                                                                             rel=1e-9, abs=1e-12)
