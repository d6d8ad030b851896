"""Trans-Earth return: EI geometry, burn bookkeeping, conics, TEI-1 targeting, config validation.

Independent truths: the entry phase's own EI constructor (``EntryInterfaceState.from_geodetic``),
Tsiolkovsky, the universal-variable Kepler solution (Curtis Alg. 3.4), the propagator's apsides
detector, and published Chang'e-5 epochs (validation notes §1f).
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import G0, FiniteBurn
from guanghan.dynamics.kepler import kepler_universal
from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import time_scales
from guanghan.errors import ScenarioError
from guanghan.gnc import return_targeting as rt
from guanghan.mission.phases import trans_earth as te
from guanghan.mission.phases.earth_entry import EntryInterfaceState

MU_MOON = 4.9028001184575496e12


def test_entry_geometry_inverts_the_entry_phase_constructor():
    """FPA/azimuth/lat/lon/speed read back what EntryInterfaceState.from_geodetic built (relative)."""
    s = EntryInterfaceState.from_geodetic(120.0, 20.0, 60.0, 10_800.0, -6.0, 60.0,
                                          "2020-12-16T17:33:00Z", inertial=False)
    geo = rt.entry_geometry(s.et, s.r_j2000, s.v_j2000, 42.3, 111.4)
    assert abs(geo.fpa_relative_deg + 6.0) < 1e-6          # deg
    assert abs(geo.azimuth_relative_deg - 60.0) < 1e-6
    assert abs(geo.speed_relative_m_s - 10_800.0) < 1e-6   # m/s
    assert abs(geo.lat_deg - 20.0) < 1e-6 and abs(geo.lon_deg - 60.0) < 1e-6
    assert abs(geo.altitude_km - 120.0) < 1e-6


def test_crossrange_zero_and_downrange_for_a_state_aimed_at_the_site():
    target = rt.EntryTarget(120e3, -6.0, time_scales.utc_to_et("2020-12-16T17:33:00Z"), 42.3, 111.4,
                            5000.0, 7500.0)
    x_itrf = rt.ei_state_itrf(target, 6000.0, 250.0, 11_000.0)
    from guanghan.environment import frames
    x = frames.transform_states(x_itrf, "ITRF93", "J2000", [target.et])[0]
    geo = rt.entry_geometry(target.et, x[:3], x[3:], 42.3, 111.4)
    assert abs(geo.crossrange_km) < 1e-6                     # km: the site is in the plane
    assert abs(geo.downrange_km - 6000.0) < 25.0             # km: geodetic vs spherical great circle
    assert abs(geo.speed_inertial_m_s - 11_000.0) < 1.0      # m/s (ω×r split uses the IERS mean rate)
    assert abs(geo.fpa_relative_deg + 6.0) < 1e-6


def test_burn_duration_and_delta_v_from_mass_agree_with_tsiolkovsky():
    m0, dv, thrust, isp = 2238.0, 350.0, 600.0, 290.0
    t = rt.burn_duration(m0, dv, thrust, isp)
    m1 = m0 - thrust / (isp * G0) * t
    assert abs(isp * G0 * math.log(m0 / m1) - dv) < 1e-9
    assert abs(rt.delta_v_from_masses(m0, m1, isp) - dv) < 1e-9


def test_hyperbola_periapsis_matches_kepler_propagation():
    """Periapsis epoch/radius of a lunar hyperbola against Curtis Alg. 3.4 (universal variable)."""
    rp, vp = 1_967_400.0, 2_400.0
    r0, v0 = np.array([rp, 0.0, 0.0]), np.array([0.0, vp * 0.8, vp * 0.6])
    r1, v1 = kepler_universal(r0, v0, 40_000.0, MU_MOON)
    s = SpacecraftState(1000.0 + 40_000.0, r1, v1, 1000.0)
    rp_est, tp_est = rt.hyperbola_periapsis(s, MU_MOON)
    assert abs(rp_est - rp) < 1e-3                 # m
    assert abs(tp_est - 1000.0) < 1e-3             # s
    rp_c, tp_c = rt.conic_periapsis(s, MU_MOON)
    assert abs(rp_c - rp) < 1e-3 and abs(tp_c - 1000.0) < 1e-3


def test_vnb_angles_round_trip():
    r, v = np.array([1.9e6, 0.2e6, 0.1e6]), np.array([-100.0, 1600.0, 300.0])
    axes = rt.vnb_axes(r, v)
    u = rt.direction_from_angles(axes, -23.0, 4.0)
    assert np.allclose(rt.angles_from_direction(axes, u), (-23.0, 4.0), atol=1e-12)
    assert abs(np.linalg.norm(u) - 1.0) < 1e-15


@pytest.fixture(scope="module")
def ce5():
    cfg = te.chang_e_5_config()
    return cfg, te.design_parking_orbit(cfg), cfg.models()


@pytest.fixture(scope="module")
def nominal(ce5):
    cfg, start, _ = ce5
    return te.fly_return(cfg, start)


@pytest.fixture(scope="module")
def dispersed(ce5):
    cfg, start, _ = ce5
    return te.fly_return(replace(cfg, execution_errors=te.ExecutionErrors(0.3, 0.1, seed=2020)), start)


def test_tei1_puts_periapsis_at_the_middle_of_tei2(ce5):
    """Published TEI-1 / TEI-2 epochs (§1f); periapsis found independently by the apsides detector."""
    cfg, start, models = ce5
    tei1_et, tei2_et = (time_scales.utc_to_et(u) for u in (cfg.tei1_utc, cfg.tei2_utc))
    t_mid = tei2_et + 0.5 * cfg.tei2_duration_guess_s
    d1, _ = rt.solve_tei1(start, tei1_et, cfg.tei1_engine, cfg.tei1_duration_guess_s, t_mid, models)
    burn = FiniteBurn(tei1_et, d1, cfg.tei1_engine.total_thrust_n, cfg.tei1_engine.isp_s, "prograde")
    res = propagate(start.with_mass(cfg.orbiter_mass_kg + cfg.returner_mass_kg), t_mid + 3600.0,
                    replace(models.moon, burns=[burn]), models.tolerances, [ev.apsides()])
    peri = [e.et for e in res.events if e.name == "periapsis" and e.et > tei2_et - 3600.0]
    assert abs(peri[0] - t_mid) < 1.0                          # s
    assert 300.0 < d1 < 700.0                                  # s: ~560 m/s on 3000 N, ~2.7 t


@pytest.mark.parametrize("which", ["nominal", "dispersed"])
def test_chang_e_5_entry_interface_hits_the_published_epoch_and_targets(which, request, ce5):
    """EI 17:33 UTC 2020-12-16 [CE5-TW]; FPA and crossrange to Siziwang Banner (42.3 N, 111.4 E)."""
    cfg = ce5[0]
    res = request.getfixturevalue(which)
    ei = time_scales.utc_to_et("2020-12-16T17:33:00Z")
    assert abs(res.entry_et - ei) < 600.0                                       # 10 min
    assert abs(res.figures["entry.interface_fpa_deg"] - cfg.entry_fpa_deg) < 0.05   # deg
    assert abs(res.figures["entry.crossrange_km"]) < 3.0                        # km
    assert cfg.downrange_min_km <= res.figures["entry.downrange_km"] <= cfg.downrange_max_km
    assert 10_500.0 < res.figures["entry.interface_speed_m_s"] < 11_200.0       # "near 11.2 km/s"
    # published ~22 min on 4 x 150 N [CE5-CRI1213]; ours depends on the assumed masses and Isp
    assert 15 * 60 < res.figures["tei2.duration_s"] < 30 * 60
    names = [e["event"] for e in res.events]
    for name in ("tei1_start", "tei1_end", "tei2_start", "tei2_end", "soi_exit", "mcc1", "mcc2",
                 "separation", "orbiter_divert", "entry_interface"):
        assert name in names
    assert [e["et"] for e in res.events] == sorted(e["et"] for e in res.events)


def test_midcourse_corrections_zero_without_errors_and_small_with_them(nominal, dispersed):
    assert nominal.figures["return.mcc_delta_v_m_s"] < 0.05          # m/s
    assert 0.05 < dispersed.figures["return.mcc_delta_v_m_s"] < 10.0  # m/s, 0.3 % / 0.1 deg TEI errors


def test_separation_near_published_altitude_and_time(nominal):
    """Separation ~5,000 km, 17:13 UTC [CE5-CCTV] [CE5-TW]: 20 min before the 17:33 EI."""
    sep = next(e for e in nominal.events if e["event"] == "separation")
    assert abs(nominal.entry_et - sep["et"] - 20 * 60) < 120.0                 # s


def _ei_detector():
    """Test's own EI function: geodetic height (Bowring) of the ITRF93 position, 120 km."""
    from guanghan.environment import frames
    from guanghan.environment.geodetic import planetodetic_from_cartesian

    def g(ets, y):
        r = np.einsum("nij,nj->ni", frames.rotation("J2000", "ITRF93", ets), y[:, :3])
        return planetodetic_from_cartesian(r)[2] - 120e3
    return ev.user(g, "ei", terminal=True, direction=-1)


def test_reflying_the_burns_without_targeting_hits_the_claimed_entry(ce5, dispersed):
    """The as-flown burns, re-propagated in one Moon leg and one Earth leg, reach the same EI."""
    cfg, start, models = ce5
    burns = [b for k, b in dispersed.burns.items() if b is not None and k != "divert"]
    s0 = start.with_mass(cfg.orbiter_mass_kg + cfg.returner_mass_kg)
    moon = propagate(s0, dispersed.entry_et, replace(models.moon, burns=burns), models.tolerances,
                     [rt.soi_exit(models.soi_radius_m)])
    sep_et = next(e["et"] for e in dispersed.events if e["event"] == "separation")
    earth = propagate(moon.final_state.recentered("EARTH"), sep_et, replace(models.earth, burns=burns),
                      models.tolerances)
    ret = earth.final_state.with_mass(cfg.returner_mass_kg)
    ei = propagate(ret, dispersed.entry_et + 600.0, models.earth, models.tolerances, [_ei_detector()])
    assert abs(ei.terminated_by.et - dispersed.entry_et) < 0.01                 # s
    assert np.linalg.norm(ei.final_state.r - dispersed.r_entry_j2000) < 50.0   # m (restarts at MCCs)


def test_transfer_time_against_patched_conics(nominal):
    """Moon two-body from the end of TEI-2 to the SOI, Earth two-body to 120 km (Curtis Alg. 3.4)."""
    from scipy.optimize import brentq
    from guanghan.environment import spice_kernels
    tei2 = nominal.burns["tei2"]
    traj = next(t for t in nominal.trajectory if t.body == "MOON" and t.end_et > tei2.end_et)
    y = traj.states([tei2.end_et])[0]
    mu_m, mu_e = spice_kernels.gm("MOON"), spice_kernels.gm("EARTH")
    t_soi = brentq(lambda t: np.linalg.norm(kepler_universal(y[:3], y[3:6], t, mu_m)[0]) - 66_000e3,
                   60.0, 10 * 86400.0)
    r, v = kepler_universal(y[:3], y[3:6], t_soi, mu_m)
    s = SpacecraftState(tei2.end_et + t_soi, r, v, 1.0).recentered("EARTH")
    def above_ei(t):
        return np.linalg.norm(kepler_universal(s.r, s.v, t, mu_e)[0]) - 6_498e3

    grid = np.arange(3600.0, 6 * 86400.0, 600.0)
    first = next(t for t in grid if above_ei(t) < 0)          # first descent below 120 km
    t_ei = brentq(above_ei, first - 600.0, first)
    estimate_h = (0.5 * tei2.duration_s + t_soi + t_ei) / 3600.0
    assert abs(estimate_h / nominal.figures["return.transfer_time_h"] - 1.0) < 0.10


def test_orbiter_divert_keeps_it_out_of_the_atmosphere(nominal, ce5):
    cfg = ce5[0]
    low = min(np.min(np.linalg.norm(t.sample(10.0)[1][:, :3], axis=1)) for t in nominal.orbiter_trajectory)
    assert low - 6_378_136.6 > cfg.orbiter_min_perigee_altitude_km * 1e3     # m, equatorial radius
    assert nominal.figures["orbiter.perigee_altitude_km"] > cfg.orbiter_min_perigee_altitude_km


def test_tei_delta_v_from_mass_is_tsiolkovsky_of_thrust_and_duration(nominal, ce5):
    cfg = ce5[0]
    m0 = cfg.orbiter_mass_kg + cfg.returner_mass_kg
    dv = 0.0
    for name in ("tei1", "tei2"):
        b = nominal.burns[name]
        m1 = m0 - b.thrust_n / (b.isp_s * G0) * b.duration_s
        dv += b.isp_s * G0 * math.log(m0 / m1)
        m0 = m1
    assert abs(nominal.figures["tei.delta_v_m_s"] - dv) < 1e-3                 # m/s


def test_entry_interface_is_on_the_geodetic_altitude(nominal):
    from guanghan.environment import frames
    from guanghan.environment.geodetic import planetodetic_from_cartesian
    r = frames.rotation("J2000", "ITRF93", [nominal.entry_et])[0] @ nominal.r_entry_j2000
    assert abs(planetodetic_from_cartesian(r)[2] - 120e3) < 1.0                 # m


@pytest.mark.parametrize("field, change", [
    ("tei2_utc", {"tei2_utc": "2020-12-11T00:00:00Z"}),
    ("tei2_engine.thrust_n", {"tei2_engine": rt.Engine(0.0, 290.0, 4)}),
    ("separation_altitude_km", {"separation_altitude_km": 100.0}),
    ("mcc_utc[1]", {"mcc_utc": ("2020-12-16T01:15:00Z", "2020-12-14T03:13:00Z")}),
    ("entry_fpa_deg", {"entry_fpa_deg": 3.0}),
])
def test_bad_config_names_the_field(field, change):
    with pytest.raises(ScenarioError) as err:
        te.chang_e_5_config(**change).validate()
    assert err.value.field == field
