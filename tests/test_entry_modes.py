"""Entry guidance modes: the closed loop's cut-off (issue 15, item 5) and the open-loop modes for
studies (issue 15, item 4): constant bank, bank profile against time or speed, ballistic.

The capsule is the Chang'e-5-like one of ``tests/test_entry_guidance.py`` (its aerodynamics are
ASSUMPTIONS: 300 kg, 1.25 m diameter, Cd 1.3 hypersonic, L/D 0.3). Each entry takes 0.02-0.6 s
warm (an open-loop entry through NRLMSIS flies twice: the pilot flight, then the flight).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from pydantic import ValidationError

import guanghan as gh
from guanghan.analysis.validation import validation_rows
from guanghan.environment.atmosphere import AtmosphereProfile
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.errors import InputError, ScenarioError
from guanghan.gnc.entry_flight import EntrySettings, simulate_entry
from guanghan.gnc.entry_guidance import GuidanceSettings
from guanghan.gnc.entry_open_loop import Ballistic, BankProfile, ConstantBank
from guanghan.gnc.entry_vehicle import Capsule, EntryVehicle, entry_state_from_geodetic
from guanghan.gnc.parachute import ParachuteSystem
from guanghan.mission.scenario import validate_scenario
from helpers import scenario_data, scenario_path

UTC = "2020-12-16T17:33:00Z"                 # the Chang'e-5 entry interface epoch [CE5-TW]
CE5_EI = (0.6615, 73.123, 34.515)            # lat, lon, azimuth (deg) of chang-e-5-entry.toml


@pytest.fixture(scope="module")
def capsule():
    chutes = ParachuteSystem(drogue_altitude_km=10.0, drogue_cd_area_m2=2.5, main_altitude_km=5.0,
                             main_cd_area_m2=150.0)
    return EntryVehicle(Capsule(reference_area_m2=np.pi * 1.25 ** 2 / 4, lift_to_drag=0.3,
                                nose_radius_m=1.5,
                                cd_mach=[[0.0, 0.9], [1.0, 1.1], [2.0, 1.3], [5.0, 1.3], [40.0, 1.3]]),
                        300.0, chutes)


def _ce5_interface(fpa_deg: float):
    lat, lon, az = CE5_EI
    return entry_state_from_geodetic(120.0, lat, lon, 11000.0, fpa_deg, az, UTC, 300.0)


def _open(mode) -> EntrySettings:
    return EntrySettings(open_loop=mode)


# --------------------------------------------------------------------------- item 5: the cut-off


@pytest.fixture(scope="module")
def ce5_packaged():
    scenario = gh.load_scenario(str(scenario_path("chang-e-5-entry")))
    return scenario, gh.run(scenario)


def test_guidance_ends_at_its_cut_off_and_holds_the_bank(ce5_packaged):
    """The packaged Chang'e-5 entry: the guidance ends once below Apollo's VQUIT (1,000 ft/s,
    Earth-relative), within one guidance cycle; no reversal or command after it; the flown bank
    reaches the held command at the capsule's roll rate (a reversal ordered in the last cycle
    completes) and stays there to the drogue; the landing still meets its validation rows."""
    scenario, run = ce5_packaged
    cut = GuidanceSettings().final_phase_end_speed_m_s
    assert cut == pytest.approx(1000 * 0.3048)
    ends = [e for e in run.events if e["event"] == "guidance_end"]
    assert len(ends) == 1
    end = ends[0]["details"]
    # one 2 s cycle below the cut-off at most (the capsule slows by < 20 m/s in 2 s there)
    assert cut - 20.0 < end["speed_m_s"] < cut
    names = [e["event"] for e in run.events]
    after = names[names.index("guidance_end") + 1:]
    assert "bank_reversal" not in after and "final_phase" not in after
    assert after[0] == "drogue_deploy"
    reversals = [e["details"]["speed_m_s"] for e in run.events if e["event"] == "bank_reversal"]
    assert reversals and min(reversals) > cut
    series = run.series["entry.entry"].to_pandas()
    held = series[series.regime == "bank_hold"]
    assert len(held) > 100                                   # ~75 s at 0.5 s steps
    bank, target = held.bank_deg.to_numpy(), end["bank_held_deg"]
    there = np.flatnonzero(np.abs(bank - target) < 1e-6)             # events: 9 digits
    assert there.size and np.all(np.abs(bank[there[0]:] - target) < 1e-6)   # then held exactly
    rolling = np.diff(np.r_[bank[:there[0] + 1]])                     # before: rolling towards it
    step = scenario.phases[0].capsule.max_bank_rate_deg_s * scenario.phases[0].step_s
    assert np.all(np.abs(rolling) <= step + 1e-9) and np.all(rolling * (target - bank[0]) >= 0.0)
    assert there[0] * scenario.phases[0].step_s < 180.0 / scenario.phases[0].capsule.max_bank_rate_deg_s
    rows = validation_rows(scenario, run.summary)
    assert rows and all(r["status"] == "pass" for r in rows), rows


def test_cut_off_must_come_after_the_final_phase_begins():
    with pytest.raises(ValidationError, match="final_phase_end_speed_m_s"):
        GuidanceSettings(final_phase_end_speed_m_s=900.0)            # final phase from 800 m/s
    assert GuidanceSettings(final_phase_end_speed_m_s=100.0).final_phase_end_speed_m_s == 100.0


# --------------------------------------------------------------------------- ballistic


@pytest.mark.parametrize("fpa_deg", [-30.0, -45.0])
def test_zero_lift_entry_matches_allen_eggers(capsule, fpa_deg):
    """Allen & Eggers (1958, NACA Report 1381) for a ballistic entry into ρ = ρ0 exp(−h/H) at a
    constant flight-path angle γ, gravity neglected: peak deceleration V_E² sin|γ| / (2 e H), at
    the speed V_E e^(−1/2), at the altitude where ρ = β sin|γ| / H (β = m / (Cd A)).

    The simulation flies the same exponential atmosphere (H = 7.2 km) over the rotating, curved
    Earth with J2 gravity, at 11 km/s Earth-relative. From 120 km to the peak (~15 s at -30°)
    gravity speeds the capsule up while the super-circular speed curves its path away from the
    Earth; the two nearly cancel here (measured: peak within 0.8 %, speed within 1.7 %, altitude
    within 0.3 km), hence 2 %, 2.5 % and 0.5 km. At 7.5 km/s the peak comes out 3 % above."""
    v_e, h_scale = 11000.0, 7200.0
    entry = entry_state_from_geodetic(120.0, 0.0, 60.0, v_e, fpa_deg, 90.0, UTC, 300.0,
                                      inertial=False)
    settings = EntrySettings(step_s=0.1, open_loop=Ballistic(mode="ballistic"))
    res = simulate_entry(entry, capsule, None, settings,
                         profile=AtmosphereProfile.exponential(1.225, h_scale))
    sin_g = math.sin(math.radians(-fpa_deg))
    peak = v_e ** 2 * sin_g / (2.0 * math.e * h_scale)
    assert res.summary["peak_g"] * STANDARD_GRAVITY == pytest.approx(peak, rel=0.02)
    k = int(np.argmax(res.g_load))
    assert np.linalg.norm(res.state_itrf93[k, 3:]) == pytest.approx(v_e * math.exp(-0.5), rel=0.025)
    beta = capsule.mass_kg / (1.3 * capsule.capsule.reference_area_m2)
    h_peak = h_scale * math.log(1.225 * h_scale / (beta * sin_g))
    assert abs(res.altitude_km[k] * 1e3 - h_peak) < 500.0
    assert np.all(res.bank_deg[~np.isnan(res.bank_deg)] == 0.0)
    assert res.summary["miss_km"] is None and res.summary["bank_reversals"] == 0


def test_spinning_capsule_averages_its_lift_away(capsule):
    """Spinning at 15 deg/s, the trimmed capsule (L/D 0.3) lands within 3 % of the zero-lift
    downrange, while holding the same lift up or down moves it by a factor of 3 or more."""
    entry = _ce5_interface(-8.0)
    zero = simulate_entry(entry, capsule, None, _open(Ballistic(mode="ballistic"))).summary
    spin = simulate_entry(entry, capsule, None, _open(Ballistic(
        mode="ballistic", roll_rate_deg_s=15.0, initial_bank_deg=-170.0)))
    up = simulate_entry(entry, capsule, None, _open(ConstantBank(mode="constant_bank", bank_deg=0.0)))
    assert spin.summary["downrange_km"] == pytest.approx(zero["downrange_km"], rel=0.03)
    assert up.summary["downrange_km"] > 2.5 * zero["downrange_km"]
    # the roll: 15 deg/s from -170 deg, wrapped into (-180, 180], sampled mid-step
    bank = spin.bank_deg[1:len(spin.mach) - np.isnan(spin.mach).sum()]
    step = np.diff(bank[:200])
    assert np.all(np.isclose(step, 7.5) | np.isclose(step, 7.5 - 360.0))
    assert bank[0] == pytest.approx(-170.0 + 15.0 * 0.25)


def test_spin_faster_than_the_capsule_rolls_is_refused(capsule):
    with pytest.raises(InputError) as err:
        simulate_entry(_ce5_interface(-8.0), capsule, None,
                       _open(Ballistic(mode="ballistic", roll_rate_deg_s=25.0)))   # capsule: 20
    assert err.value.quantity == "guidance.roll_rate_deg_s"


# --------------------------------------------------------------------------- constant bank, profiles


def test_lift_up_flies_furthest_and_lift_down_shortest(capsule):
    """Constant bank 0 (lift up), 60, 90 (lift sideways) and 180 deg (lift down) at -8 deg: range
    falls and the peak load rises as the lift turns down (Vinh et al. 1980, ch. 6: the vertical
    lift L cos σ is what extends or shortens an entry)."""
    entry = _ce5_interface(-8.0)
    runs = [simulate_entry(entry, capsule, None,
                           _open(ConstantBank(mode="constant_bank", bank_deg=b))).summary
            for b in (0.0, 60.0, 90.0, 180.0)]
    ranges = [r["downrange_km"] for r in runs]
    peaks = [r["peak_g"] for r in runs]
    assert ranges == sorted(ranges, reverse=True) and ranges[0] > 2.0 * ranges[-1], ranges
    assert peaks == sorted(peaks), peaks
    assert [r["time_of_flight_s"] for r in runs] == sorted((r["time_of_flight_s"] for r in runs),
                                                           reverse=True)


@pytest.mark.parametrize("table", [{"time_s": [0.0, 900.0]}, {"speed_m_s": [100.0, 12000.0]}])
def test_a_flat_bank_profile_flies_as_the_constant_bank(capsule, table):
    entry = _ce5_interface(-6.5)
    const = simulate_entry(entry, capsule, None,
                           _open(ConstantBank(mode="constant_bank", bank_deg=75.0)))
    flat = simulate_entry(entry, capsule, None,
                          _open(BankProfile(mode="bank_profile", bank_deg=[75.0, 75.0], **table)))
    assert np.array_equal(const.state_itrf93, flat.state_itrf93)
    assert const.summary["landing_lat_deg"] == flat.summary["landing_lat_deg"]


def test_bank_profile_against_speed_is_interpolated(capsule):
    """Each step flies the table interpolated at the speed its step starts from (the table is
    gentle enough that the 20 deg/s roll limit never binds)."""
    speeds, banks = [500.0, 4000.0, 8000.0, 11500.0], [30.0, 50.0, 80.0, 100.0]
    res = simulate_entry(_ce5_interface(-6.5), capsule, None,
                         _open(BankProfile(mode="bank_profile", bank_deg=banks, speed_m_s=speeds)))
    n = len(res.mach) - int(np.isnan(res.mach).sum())         # before the drogue
    speed = np.linalg.norm(res.state_itrf93[: n - 1, 3:], axis=1)
    assert np.allclose(res.bank_deg[1:n], np.interp(speed, speeds, banks), atol=1e-9)


def test_bank_profile_against_time_rolls_at_the_capsule_rate(capsule):
    """A step from 0 to 180 deg at 100 s: the capsule rolls at its 20 deg/s, 9 s for the half turn."""
    res = simulate_entry(_ce5_interface(-8.0), capsule, None, _open(BankProfile(
        mode="bank_profile", bank_deg=[0.0, 0.0, 180.0], time_s=[0.0, 100.0, 100.001])))
    t = res.et - res.et[0]
    flown = ~np.isnan(res.bank_deg)
    assert np.all(res.bank_deg[t <= 100.5] == 0.0)       # the step from 100 s flies 0 deg still
    last_zero = t[flown & (res.bank_deg == 0.0)].max()
    first_down = t[flown & (res.bank_deg > 180.0 - 1e-9)].min()
    assert first_down - last_zero == pytest.approx(9.0, abs=1e-6)    # 180 deg at 20 deg/s
    assert np.all(np.diff(res.bank_deg[(t >= last_zero) & (t <= first_down)]) > 9.999)
    assert np.all(res.bank_deg[flown & (t > first_down)] == 180.0)


@pytest.mark.parametrize("fields, field, words", [
    ({"bank_deg": [10.0, 20.0], "time_s": [0.0, 0.0]}, "time_s", "strictly increasing"),
    ({"bank_deg": [10.0, 20.0], "speed_m_s": [9000.0, 300.0]}, "speed_m_s", "strictly increasing"),
    ({"bank_deg": [10.0, 20.0, 30.0], "time_s": [0.0, 10.0]}, "time_s", "3"),
    ({"bank_deg": [10.0, 200.0], "time_s": [0.0, 10.0]}, "bank_deg", "[-180, 180]"),
    ({"bank_deg": [10.0], "time_s": [0.0]}, "bank_deg", "at least 2"),
    ({"bank_deg": [10.0, 20.0]}, "time_s", "exactly one abscissa"),
    ({"bank_deg": [10.0, 20.0], "time_s": [0.0, 1.0], "speed_m_s": [1.0, 2.0]}, "speed_m_s", "not both"),
    ({"bank_deg": [10.0, 20.0], "time_s": [-5.0, 10.0]}, "time_s", "from 0"),
    ({"bank_deg": [10.0, 20.0], "speed_m_s": [0.0, 10.0]}, "speed_m_s", "> 0"),
    ({"bank_deg": [10.0, float("nan")], "time_s": [0.0, 10.0]}, "bank_deg", "finite"),
])
def test_bad_bank_profiles_are_refused_naming_the_field(fields, field, words):
    data = scenario_data("chang-e-5-entry")
    data["phases"][0]["guidance"] = {"mode": "bank_profile", **fields}
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data, file="study.toml")
    message = str(err.value)
    assert f"phases[0].guidance.{field}" in message and words in message, message


@pytest.mark.parametrize("guidance, field, words", [
    ({"mode": "steered"}, "guidance.mode", "closed_loop, constant_bank, bank_profile, ballistic"),
    ({"mode": "constant_bank"}, "guidance.bank_deg", "needs bank_deg"),
    ({"mode": "constant_bank", "bank_deg": -181.0}, "guidance.bank_deg", "at least -180"),
    ({"mode": "constant_bank", "bank_deg": 10.0, "period_s": 2.0}, "guidance.period_s", "unknown key"),
    ({"mode": "ballistic", "roll_rate_deg_s": 30.0}, "guidance.roll_rate_deg_s", "max_bank_rate_deg_s"),
    ({"mode": "ballistic", "initial_bank_deg": 30.0}, "guidance.initial_bank_deg", "no effect"),
    ({"roll_rate_deg_s": 10.0}, "guidance.mode", "give mode = 'ballistic'"),
    ({"bank_deg": [0.0, 9.0], "speed_m_s": [1.0, 2.0]}, "guidance.mode", "give mode = 'bank_profile'"),
])
def test_bad_modes_are_refused_naming_the_field(guidance, field, words):
    data = scenario_data("chang-e-5-entry")
    data["phases"][0]["guidance"] = guidance
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data, file="study.toml")
    assert f"phases[0].{field}" in str(err.value) and words in str(err.value), str(err.value)


def test_open_loop_models_refuse_bad_values_directly():
    with pytest.raises(ValidationError, match="time_s"):
        BankProfile(mode="bank_profile", bank_deg=[0.0, 1.0], time_s=[5.0, 1.0])
    with pytest.raises(ValidationError, match="bank_deg"):
        ConstantBank(mode="constant_bank", bank_deg=math.inf)


# --------------------------------------------------------------------------- the site


def test_a_scenario_without_a_site_flies_open_loop():
    """The packaged Chang'e-5 entry with no site and a constant 60 deg bank: it completes and
    reports where it landed, without a miss; the same with the site gives the miss from it
    (great circle on the 6,371 km sphere, computed here independently)."""
    data = scenario_data("chang-e-5-entry")
    data["validation"] = []
    phase = data["phases"][0]
    phase["guidance"] = {"mode": "constant_bank", "bank_deg": 60.0}
    with_site = copy.deepcopy(data)
    del phase["site"]
    alone = gh.run(validate_scenario(data, file="study.toml"))
    assert alone.status == "completed"
    s = alone.summary
    assert s["earth_landing.miss_km"] is None and s["entry.guidance_mode"] == "constant_bank"
    touchdown = [e for e in alone.events if e["event"] == "touchdown"][0]["details"]
    assert (s["earth_landing.lat_deg"], s["earth_landing.lon_deg"]) == \
        pytest.approx((touchdown["lat_deg"], touchdown["lon_deg"]))
    assert s["entry.bank_reversals_count"] == 0 and s["entry.downrange_km"] > 3000.0
    assert [e["details"]["mode"] for e in alone.events if e["event"] == "entry_interface"] == \
        ["constant_bank"]

    sited = gh.run(validate_scenario(with_site, file="study.toml")).summary
    site = with_site["sites"]["earth_landing_zone"]
    la1, lo1, la2, lo2 = np.radians([sited["earth_landing.lat_deg"], sited["earth_landing.lon_deg"],
                                     site["lat_deg"], site["lon_deg"]])
    haversine = 2 * 6371.0 * np.arcsin(np.sqrt(np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2)
                                               * np.sin((lo2 - lo1) / 2) ** 2))
    assert sited["earth_landing.miss_km"] == pytest.approx(haversine, rel=1e-9)
    # the site only moves the touchdown height (1,300 m) and the canopy descent with it
    assert sited["earth_landing.lat_deg"] == pytest.approx(s["earth_landing.lat_deg"], abs=0.05)


def test_closed_loop_needs_a_site(capsule):
    data = scenario_data("chang-e-5-entry")
    del data["phases"][0]["site"]
    with pytest.raises(ScenarioError, match=r"phases\[0\]\.site"):
        validate_scenario(data, file="study.toml")
    with pytest.raises(InputError) as err:
        simulate_entry(_ce5_interface(-5.8), capsule, None)
    assert err.value.quantity == "site"


# --------------------------------------------------------------------------- independent integration


def _reference_rhs(planet, mass_kg, area_m2, cd, lift_to_drag, h_scale, rho0):
    """The 3-DOF equations of an entry over the rotating Earth written again, here, in NumPy:
    point mass + J2 gravity (Vallado 4th ed. eq. 8-30), Coriolis and centrifugal terms, drag along
    the Earth-relative velocity and lift in the vertical plane (bank 0, lift up), an isothermal
    atmosphere over the ellipsoid height along the geocentric radius."""
    mu, j2, re = planet[:3]
    omega, a, b = planet[3:6], planet[6], planet[7]

    def rhs(_t, x):
        r, v = x[:3], x[3:]
        rn = np.linalg.norm(r)
        s2 = (r[2] / rn) ** 2
        h = rn - a * b / math.sqrt(b * b * (1.0 - s2) + a * a * s2)
        f = 1.5 * j2 * (re / rn) ** 2
        g = -mu / rn ** 3 * r * np.array([1 + f * (1 - 5 * s2), 1 + f * (1 - 5 * s2), 1 + f * (3 - 5 * s2)])
        vn = np.linalg.norm(v)
        u = v / vn
        drag = 0.5 * rho0 * math.exp(-h / h_scale) * vn * vn * cd * area_m2 / mass_kg
        up = r / rn - (r / rn @ u) * u
        accel = g - drag * u + lift_to_drag * drag * up / np.linalg.norm(up)
        accel = accel - 2.0 * np.cross(omega, v) - np.cross(omega, np.cross(omega, r))
        return np.concatenate([v, accel])
    return rhs


@pytest.mark.parametrize("mode, lift", [(Ballistic(mode="ballistic"), 0.0),
                                        (ConstantBank(mode="constant_bank", bank_deg=0.0), 0.3)])
def test_open_loop_entries_agree_with_scipy_on_the_same_equations(mode, lift):
    """A ballistic and a lift-up entry from the Chang'e-5 interface point (-10°, 11 km/s) against
    scipy's DOP853 (rtol 1e-11) on the equations written again in NumPy: within metres through the
    peak load, at 200 s or where the capsule comes down through 30 km if earlier (parachutes
    later), the simulator stepping 0.1 s RK4."""
    from scipy.integrate import solve_ivp

    from guanghan.dynamics.entry_kernels import planet_array

    area, cd = np.pi * 1.25 ** 2 / 4, 1.3
    vehicle = EntryVehicle(Capsule(reference_area_m2=area, lift_to_drag=0.3, nose_radius_m=1.5,
                                   cd_mach=[[0.0, cd], [40.0, cd]]), 300.0,
                           ParachuteSystem(drogue_altitude_km=10.0, drogue_cd_area_m2=2.5,
                                           main_altitude_km=5.0, main_cd_area_m2=150.0))
    h_scale, rho0 = 7200.0, 1.225
    res = simulate_entry(_ce5_interface(-10.0), vehicle, None,
                         EntrySettings(step_s=0.1, coast_step_s=0.1, open_loop=mode),
                         profile=AtmosphereProfile.exponential(rho0, h_scale))
    t = res.et - res.et[0]
    low = np.flatnonzero(res.altitude_km < 30.0)
    k = min(int(np.searchsorted(t, 200.0 - 1e-6)), int(low[0]) - 1)
    assert t[k] > 60.0 and np.all(np.diff(t[:k + 1]) > 0)
    rhs = _reference_rhs(planet_array(res.et[0]), 300.0, area, cd, lift, h_scale, rho0)
    ref = solve_ivp(rhs, (0.0, t[k]), res.state_itrf93[0], method="DOP853", rtol=1e-11, atol=1e-6)
    err = np.linalg.norm(ref.y[:3, -1] - res.state_itrf93[k, :3])
    print(f"\n{mode.mode}: {t[k]:.1f} s, altitude {res.altitude_km[k]:.1f} km, |Δr| = {err:.3f} m")
    assert err < 0.5                                              # m (measured < 1 mm)
    assert np.linalg.norm(ref.y[3:, -1] - res.state_itrf93[k, 3:]) < 0.01      # m/s
