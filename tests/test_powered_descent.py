"""Closed-loop powered descent: a Chang'e-5-like lander and an Apollo-LM-like descent stage land
with the same code; the phase sequence and figures; determinism; failures; bad inputs.

Chang'e-5-like numbers (plain values from the published figures, see the brief): 7,500 N
variable-thrust main engine, throttle down to 1,500 N (20 %), Isp 310 s, 3,700 kg at the start of
powered descent (published range 3,700–3,800 kg), 15 km, 1.7 km/s. ASSUMED: dry mass 1,600 kg.
Start range 660 km up-range: with this mass and thrust the rocket equation gives a braking arc of
≥ ~640 km from 1.7 km/s (see test_convex_descent_guidance::test_ce5_braking_from_450_km_is_
infeasible), so the ~450 km of the brief cannot be flown by this lander.
Apollo LM-like: 15,000 kg, 45,000 N throttleable to 10 %, Isp 311 s; ASSUMED dry 6,900 kg.
"""

from __future__ import annotations

import numpy as np
import pytest

from guanghan.dynamics.propulsion import Engine
from guanghan.environment import spice_kernels
from guanghan.errors import GuidanceFailure
from guanghan.gnc.powered_descent import (DescentInputError, DescentProfile, DescentTarget,
                                          LanderConfig, SensorConfig, fly_powered_descent,
                                          start_state_uprange)

CE5_PDI = spice_kernels.utc_to_et("2020-12-01T14:57:00")       # published PDI, UTC
CE5_SITE = DescentTarget(latitude_deg=43.06, longitude_deg=-51.92)
CE5 = LanderConfig(engine=Engine(thrust_n=7500.0, isp_s=310.0), min_throttle=0.2,
                   dry_mass_kg=1600.0)
LM = LanderConfig(engine=Engine(thrust_n=45000.0, isp_s=311.0), min_throttle=0.1,
                  dry_mass_kg=6900.0)
LM_PDI = spice_kernels.utc_to_et("1969-07-20T20:05:00")
LM_SITE = DescentTarget(latitude_deg=0.674, longitude_deg=23.473)


def flat(east_m, north_m):
    return 0.0


def _choose(estimate):
    _choose.seen = estimate
    return (20.0, -15.0)


def _report(name, res):
    f = res.figures
    print(f"\n{name}: success={res.success} {res.failure_reason or ''}\n"
          f"  duration {f['duration_s']:.1f} s, propellant {f['propellant_kg']:.1f} kg "
          f"(estimate {f['propellant_estimate_kg']:.0f}), Δv {f['delta_v_m_s']:.0f} m/s, "
          f"final mass {f['final_mass_kg']:.1f} kg\n"
          f"  miss from aim {f['miss_from_aim_m']:.2f} m, from chosen site "
          f"{f['miss_from_site_m']:.3f} m, divert {f['divert_distance_m']:.1f} m\n"
          f"  touchdown vertical {f['touchdown_vertical_speed_m_s']:.2f} m/s, horizontal "
          f"{f['touchdown_horizontal_speed_m_s']:.3f} m/s at "
          f"{f['touchdown_latitude_deg']:.5f}°, {f['touchdown_longitude_deg']:.5f}°\n"
          f"  guidance: {f['guidance_solves']} solves ({f['guidance_replans']} re-plans), "
          f"{1e3 * f['guidance_solve_time_mean_s']:.1f} ms per solve, "
          f"{f['guidance_solve_time_total_s']:.2f} s in solves; wall {f['wall_time_s']:.2f} s")


@pytest.fixture(scope="module")
def ce5():
    start = start_state_uprange(CE5_PDI, CE5_SITE, 660e3, 15e3, 1700.0, 3700.0)
    res = fly_powered_descent(start, CE5, CE5_SITE, flat, SensorConfig(), _choose, 2020)
    _report("Chang'e-5-like", res)
    return res


def test_ce5_like_descent_lands_on_the_chosen_site(ce5):
    f = ce5.figures
    assert ce5.success, ce5.failure_reason
    assert f["miss_from_aim_m"] < 100.0
    assert f["miss_from_site_m"] < 3.0
    assert f["touchdown_vertical_speed_m_s"] < 3.0
    assert f["touchdown_horizontal_speed_m_s"] < 1.0
    assert 600.0 < f["duration_s"] < 900.0
    assert 1200.0 < f["propellant_kg"] < 2100.0                # CE-5 used roughly 1.5–2 t
    assert f["delta_v_m_s"] == pytest.approx(
        310.0 * 9.80665 * np.log(3700.0 / f["final_mass_kg"]), rel=1e-12)


def test_sequence_events_and_series(ce5):
    names = [e["name"] for e in ce5.events]
    order = ["powered_descent_start", "braking_end", "hover_start", "hazard_site_chosen",
             "divert_start", "vertical_descent_start", "engine_cutoff", "touchdown"]
    assert [n for n in names if n in order] == order
    times = [e["t_s"] for e in ce5.events]
    assert times == sorted(times)
    ets = {e["name"]: e["et"] for e in ce5.events}
    assert ets["touchdown"] - ets["powered_descent_start"] == pytest.approx(
        ce5.figures["duration_s"])
    cut = next(e for e in ce5.events if e["name"] == "engine_cutoff")
    assert cut["altimeter_m"] <= CE5.cutoff_height_m and 1.0 < cut["true_height_m"] < 3.0
    s = ce5.series
    n = len(s["t_s"])
    assert all(len(v) == n for v in s.values())
    assert set(s["phase"]) >= {"main_braking", "rapid_adjustment", "approach", "hover",
                               "divert", "vertical_descent", "free_fall"}
    hover = s["phase"] == "hover"
    assert np.all(np.abs(s["height_m"][hover] - 100.0) < 5.0)
    braking = s["phase"] == "main_braking"
    assert s["height_m"][braking].max() < 15e3 + 250.0         # no climb above the ceiling
    assert s["tilt_deg"][s["phase"] == "vertical_descent"].max() < 20.5
    assert s["throttle"][s["phase"] == "free_fall"].max() == 0.0
    assert np.all(np.diff(s["mass_kg"]) <= 0.0)
    # guidance flew the estimate, not the truth: a navigation error exists, and stays small
    assert 0.1 < np.median(s["nav_error_m"]) < 100.0
    assert _choose.seen.position_sigma_m.shape == (3,)


def test_apollo_lm_like_stage_lands_with_the_same_code():
    start = start_state_uprange(LM_PDI, LM_SITE, 450e3, 15e3, 1690.0, 15000.0,
                                approach_azimuth_deg=-90.0)
    res = fly_powered_descent(start, LM, LM_SITE, flat, SensorConfig(), _choose, 11)
    _report("Apollo LM-like", res)
    f = res.figures
    assert res.success, res.failure_reason
    assert f["miss_from_aim_m"] < 100.0 and f["miss_from_site_m"] < 3.0
    assert f["touchdown_vertical_speed_m_s"] < 3.0 and f["touchdown_horizontal_speed_m_s"] < 1.0
    assert 5000.0 < f["propellant_kg"] < 8100.0


def test_same_seed_is_bit_identical(ce5):
    start = start_state_uprange(CE5_PDI, CE5_SITE, 660e3, 15e3, 1700.0, 3700.0)
    again = fly_powered_descent(start, CE5, CE5_SITE, flat, SensorConfig(), _choose,
                                np.random.default_rng(2020))
    for key in ("position_m", "velocity_m_s", "position_est_m", "mass_kg", "throttle"):
        assert np.array_equal(again.series[key], ce5.series[key]), key


def test_crash_is_reported_not_raised():
    """A horizontal touchdown limit below what the loop achieves: a failed result, no raise."""
    start = start_state_uprange(LM_PDI, LM_SITE, 450e3, 15e3, 1690.0, 15000.0,
                                approach_azimuth_deg=-90.0)
    strict = LM.model_copy(update={"touchdown_horizontal_limit_m_s": 1e-4})
    res = fly_powered_descent(start, strict, LM_SITE, flat, SensorConfig(), None, 5)
    assert not res.success and "horizontal touchdown speed" in res.failure_reason
    assert res.events[-1]["name"] == "touchdown"


def test_bad_inputs_raise_with_the_numbers():
    start = start_state_uprange(CE5_PDI, CE5_SITE, 660e3, 15e3, 1700.0, 3700.0)
    weak = CE5.model_copy(update={"engine": Engine(thrust_n=5000.0, isp_s=310.0)})
    with pytest.raises(DescentInputError, match=r"5000.0: must exceed the lunar weight") as exc:
        fly_powered_descent(start, weak, CE5_SITE, flat)
    assert exc.value.field == "engine.thrust_n × count" and "6009.6 N" in str(exc.value)
    low = start_state_uprange(CE5_PDI, CE5_SITE, 5e3, 80.0, 10.0, 3700.0)
    with pytest.raises(DescentInputError, match="hover_altitude_m = 100.0: must be below"):
        fly_powered_descent(low, CE5, CE5_SITE, flat)
    short = CE5.model_copy(update={"dry_mass_kg": 2500.0})
    with pytest.raises(DescentInputError, match=r"carries 1200.0 kg .* needs ~1"):
        fly_powered_descent(start, short, CE5_SITE, flat)
    stiff = CE5.model_copy(update={"min_throttle": 0.45})
    with pytest.raises(DescentInputError, match=r"min_throttle = 0.45: min thrust 3375.0 N"):
        fly_powered_descent(start, stiff, CE5_SITE, flat)
    high_cut = CE5.model_copy(update={"cutoff_height_m": 8.0, "final_descent_height_m": 10.0})
    with pytest.raises(DescentInputError, match="cutoff_height_m = 8.0: free fall"):
        fly_powered_descent(start, high_cut, CE5_SITE, flat)
    fast_gate = DescentProfile(braking_end_speed_m_s=300.0)
    with pytest.raises(DescentInputError, match=r"takes 10.6. m/s² \(v²/2d\), over the 4.69") as exc:
        fly_powered_descent(start, CE5, CE5_SITE, flat, profile=fast_gate)
    assert exc.value.field == "braking_end_speed_m_s"
    with pytest.raises(DescentInputError, match=r"no approach from the braking gate") as exc:
        fly_powered_descent(start, CE5, CE5_SITE, flat,
                            profile=DescentProfile(braking_end_speed_m_s=150.0))
    assert exc.value.field == "braking_end_speed_m_s"
    lost = SensorConfig(initial_velocity_sigma_m_s=100.0)
    with pytest.raises(DescentInputError, match=r"no braking plan exists from that estimate") as exc:
        fly_powered_descent(start, CE5, CE5_SITE, flat, lost)
    assert exc.value.field == "initial_velocity_sigma_m_s"
    with pytest.raises(DescentInputError, match="choose_site"):
        fly_powered_descent(start, CE5, CE5_SITE, flat, choose_site="(0, 0)")
    with pytest.raises(TypeError, match="rng_or_seed"):
        fly_powered_descent(start, CE5, CE5_SITE, flat, rng_or_seed=1.5)


def test_unreachable_gate_raises_guidance_failure():
    """From 450 km the CE-5-like lander cannot brake to the gate (the free-range arc of
    test_ce5_braking_from_450_km_is_infeasible ends ~200 km past it): the caller must stop."""
    start = start_state_uprange(CE5_PDI, CE5_SITE, 450e3, 15e3, 1700.0, 3700.0)
    with pytest.raises(GuidanceFailure, match="out of reach|no braking solution") as exc:
        fly_powered_descent(start, CE5, CE5_SITE, flat)
    print(f"\n450 km start: {exc.value}")
