"""The compiled DOP853 propagator against independent truth: Kepler, J2 secular rates, energy, scipy."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import CentralGravity, FiniteBurn, ForceModel, G0, ThirdBody, rhs
from guanghan.dynamics.kepler import Elements, elements_to_state, kepler_universal, state_to_elements
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.gravity_field import GravityField

ET0 = 660_000_000.0
MU = 4.9028001184575496e12          # gm_de440.tpc BODY301_GM (km³/s² × 1e9)
R_MOON = 1_737_400.0


def j2_field(c20: float, frame: str) -> GravityField:
    c = np.zeros((3, 3))
    c[0, 0] = 1.0
    c[2, 0] = c20
    return GravityField("J2 only", "MOON", MU, R_MOON, 2, 0, c, np.zeros((3, 3)), frame, "test")


def orbit_state(alt_km=100.0, e=0.0, inc_deg=90.0, mass=2000.0):
    el = Elements(R_MOON + alt_km * 1e3, e, math.radians(inc_deg), 0.4, 0.3, 0.1)
    r, v = elements_to_state(MU, el)
    return el, SpacecraftState(ET0, r, v, mass)


def test_kepler_100_orbits_matches_universal_variable_solution():
    """Curtis Alg. 3.4 as truth; 100 orbits of an e = 0.05 lunar orbit."""
    el, s0 = orbit_state(200.0, e=0.05, inc_deg=45.0)
    t_end = 100 * el.period(MU)
    res = propagate(s0, ET0 + t_end, ForceModel(CentralGravity("MOON", MU)), Tolerances(1e-12, 1e-5))
    r_ref, v_ref = kepler_universal(s0.r, s0.v, t_end, MU)
    assert np.linalg.norm(res.trajectory.final_state[:3] - r_ref) < 0.5      # m after ~10^9 m of arc
    assert np.linalg.norm(res.trajectory.final_state[3:6] - v_ref) < 5e-4    # m/s
    # dense output inside a step, against the analytic solution
    t_mid = 41.37 * el.period(MU)
    r_mid, _ = kepler_universal(s0.r, s0.v, t_mid, MU)
    assert np.linalg.norm(res.trajectory.states([ET0 + t_mid])[0, :3] - r_mid) < 0.5


def test_same_steps_as_scipy_dop853():
    """Same algorithm and tolerances as scipy's DOP853: same number of steps (±1) and same answer."""
    el, s0 = orbit_state(100.0)
    model = ForceModel(CentralGravity("MOON", MU))
    tol = Tolerances(1e-10, 1e-3)
    t_end = 5 * el.period(MU)
    res = propagate(s0, ET0 + t_end, model, tol)
    fd = model.compile(ET0, ET0 + t_end)

    def f(t, y):
        out = np.empty(7)
        rhs(t, y, fd, out)
        return out

    sol = solve_ivp(f, (0, t_end), s0.vector, method="DOP853", rtol=tol.rtol, atol=tol.atol_vector())
    assert abs((sol.t.size - 1) - res.trajectory.n_steps) <= 1
    assert np.linalg.norm(sol.y[:3, -1] - res.trajectory.final_state[:3]) < 1e-3


def test_j2_nodal_regression_matches_secular_rate():
    """dΩ/dt = -3/2 n J2 (R/p)² cos i (Vallado eq. 9-41); field axes = J2000 so Ω is the J2000 node."""
    c20 = -9.0884339347424299e-05       # GRGM1200A C̄20 (fully normalised)
    j2 = -c20 * math.sqrt(5.0)
    el, s0 = orbit_state(150.0, inc_deg=60.0)
    model = ForceModel(CentralGravity("MOON", MU, j2_field(c20, "J2000")))
    span = 10 * 86400.0
    res = propagate(s0, ET0 + span, model, Tolerances(1e-11, 1e-4))
    ets = np.linspace(ET0, ET0 + span, 400)
    ys = res.trajectory.states(ets)
    raan = np.unwrap([state_to_elements(MU, y[:3], y[3:6]).raan for y in ys])
    rate = np.polyfit(ets - ET0, raan, 1)[0]
    n = math.sqrt(MU / el.a ** 3)
    expected = -1.5 * n * j2 * (R_MOON / el.a) ** 2 * math.cos(el.i)
    assert abs(rate / expected - 1.0) < 0.01       # 1 %: short-period terms, J2² neglected


def test_energy_conserved_in_axisymmetric_field():
    el, s0 = orbit_state(50.0, e=0.02, inc_deg=30.0)
    c20 = -9.0884e-05
    model = ForceModel(CentralGravity("MOON", MU, j2_field(c20, "J2000")))
    res = propagate(s0, ET0 + 3 * 86400.0, model, Tolerances(1e-12, 1e-5))
    j2 = -c20 * math.sqrt(5.0)

    def energy(y):
        r = np.linalg.norm(y[:3])
        sinphi = y[2] / r
        u = MU / r * (1 - j2 * (R_MOON / r) ** 2 * (1.5 * sinphi ** 2 - 0.5))
        return 0.5 * np.dot(y[3:6], y[3:6]) - u

    e0, e1 = energy(res.trajectory.y[0]), energy(res.trajectory.y[-1])
    assert abs((e1 - e0) / e0) < 1e-10


def test_finite_burn_follows_rocket_equation():
    """A prograde burn: mass from ṁ = F/(Isp g0); Δv (ignoring gravity losses) from Tsiolkovsky."""
    _, s0 = orbit_state(200.0, mass=2500.0)
    burn = FiniteBurn(ET0 + 600.0, 300.0, 3000.0, 315.0, "prograde")
    model = ForceModel(CentralGravity("MOON", MU), burns=[burn])
    coast = propagate(s0, ET0 + 1200.0, ForceModel(CentralGravity("MOON", MU)), Tolerances(1e-12, 1e-5))
    res = propagate(s0, ET0 + 1200.0, model, Tolerances(1e-12, 1e-5))
    m_end = 2500.0 - 3000.0 / (315.0 * G0) * 300.0
    assert abs(res.trajectory.final_state[6] - m_end) < 1e-6
    # specific energy change ∫ (F/m) v dt = ∫ v dv = v0 Δv + Δv²/2 when gravity stays normal to v
    # (circular orbit, short burn); 1 % covers the small radial drift during the burn
    dv = 315.0 * G0 * math.log(2500.0 / m_end)
    de = 0.5 * np.sum(res.trajectory.final_state[3:6] ** 2) - MU / np.linalg.norm(res.trajectory.final_state[:3])
    de0 = 0.5 * np.sum(coast.trajectory.final_state[3:6] ** 2) - MU / np.linalg.norm(coast.trajectory.final_state[:3])
    v = np.linalg.norm(s0.v)
    assert abs((de - de0) / (v * dv + 0.5 * dv ** 2) - 1.0) < 0.01


def test_pitch_programme_burn_matches_scipy_on_the_written_out_law():
    """The "retrograde_pitch" burn, u = cos θ (−v̂) + sin θ ê⊥ with θ = θ0 + θ̇ (t − t_mid), against
    scipy DOP853 on the same law written again in NumPy (point-mass Moon): 10 cm after a 600 s burn
    swinging 60° (a long LOI-like burn), and the pitch really acts (the state differs from −v)."""
    _, s0 = orbit_state(200.0, e=0.3, mass=6000.0)
    t0, dur, f, isp, th0, rate = ET0 + 100.0, 600.0, 3000.0, 315.0, 0.1, -math.radians(60.0) / 600.0
    burn = FiniteBurn(t0, dur, f, isp, "retrograde_pitch", pitch_rad=th0, pitch_rate_rad_s=rate)
    res = propagate(s0, ET0 + 900.0, ForceModel(CentralGravity("MOON", MU), burns=[burn]),
                    Tolerances(1e-12, 1e-6)).trajectory.final_state

    def law(t, y):
        r, v, m = y[:3], y[3:6], y[6]
        acc = -MU * r / np.linalg.norm(r) ** 3
        mdot = 0.0
        if t0 <= t < t0 + dur:
            w = v / np.linalg.norm(v)
            up = r - (r @ w) * w
            th = th0 + rate * (t - (t0 + 0.5 * dur))
            acc = acc + f / m * (-math.cos(th) * w + math.sin(th) * up / np.linalg.norm(up))
            mdot = -f / (isp * G0)
        return np.concatenate([v, acc, [mdot]])

    y0 = np.concatenate([s0.r, s0.v, [s0.mass]])
    seg = [(ET0, t0), (t0, t0 + dur), (t0 + dur, ET0 + 900.0)]       # integrate across the switches
    for a, b in seg:
        y0 = solve_ivp(law, (a, b), y0, method="DOP853", rtol=1e-12, atol=1e-6).y[:, -1]
    assert np.linalg.norm(res[:3] - y0[:3]) < 0.1 and abs(res[6] - y0[6]) < 1e-6
    plain = propagate(s0, ET0 + 900.0, ForceModel(CentralGravity("MOON", MU), burns=[
        FiniteBurn(t0, dur, f, isp, "retrograde")]), Tolerances(1e-12, 1e-6)).trajectory.final_state
    assert np.linalg.norm(res[:3] - plain[:3]) > 1e4


def test_third_body_earth_perturbs_by_expected_amount():
    """Earth's tidal acceleration on a low lunar orbiter is ~ 2 GM_E r / d³ ≈ 1e-4 m/s² scale."""
    el, s0 = orbit_state(100.0)
    mu_e = spice_kernels.gm("EARTH")
    kep = ForceModel(CentralGravity("MOON", MU))
    pert = ForceModel(CentralGravity("MOON", MU), [ThirdBody("EARTH", mu_e)])
    fd0, fd1 = kep.compile(ET0, ET0 + 10), pert.compile(ET0, ET0 + 10)
    a0, a1 = np.empty(7), np.empty(7)
    rhs(0.0, s0.vector, fd0, a0)
    rhs(0.0, s0.vector, fd1, a1)
    d = np.linalg.norm(spice_kernels.body_positions("EARTH", "MOON", "J2000", [ET0])[0])
    tidal_max = 2 * mu_e * np.linalg.norm(s0.r) / d ** 3
    assert 0.3 * tidal_max / 2 < np.linalg.norm(a1[3:6] - a0[3:6]) <= 1.01 * tidal_max


def test_terminal_altitude_event_stops_at_impact():
    el, s0 = orbit_state(20.0, inc_deg=10.0)
    v = s0.v * 0.97                                     # too slow: it comes down
    s = SpacecraftState(ET0, s0.r, v, 1000.0)
    res = propagate(s, ET0 + 86400.0, ForceModel(CentralGravity("MOON", MU)), Tolerances(1e-12, 1e-5),
                    detectors=[ev.altitude(0.0, R_MOON, terminal=True, name="surface")])
    assert res.terminated_by is not None and res.terminated_by.name == "surface_down"
    assert abs(np.linalg.norm(res.trajectory.final_state[:3]) - R_MOON) < 1e-3
    assert res.trajectory.end_et == pytest.approx(res.terminated_by.et)


def test_recentre_state_between_moon_and_earth():
    s = SpacecraftState(ET0, [2.0e6, 0.0, 0.0], [0.0, 1600.0, 0.0], 1000.0)
    e = s.recentered("EARTH")
    moon = spice_kernels.body_states("MOON", "EARTH", "J2000", [ET0])[0]
    assert np.allclose(e.r, s.r + moon[:3], atol=1e-6) and np.allclose(e.v, s.v + moon[3:], atol=1e-9)
    back = e.recentered("MOON")
    assert np.allclose(back.r, s.r, atol=1e-6) and back.body == "MOON"


def test_radial_plunge_stops_at_the_surface_event_not_a_failure():
    """Straight down onto the Moon: the terminal surface event ends the run, whatever chunk it is in."""
    s = SpacecraftState(ET0, [R_MOON + 200e3, 0.0, 0.0], [-2000.0, 0.0, 0.0], 500.0)
    res = propagate(s, ET0 + 86400.0, ForceModel(CentralGravity("MOON", MU)), Tolerances(1e-12, 1e-5),
                    detectors=[ev.altitude(0.0, R_MOON, terminal=True, name="surface")],
                    chunk_steps=100_000)
    assert res.terminated_by is not None and res.terminated_by.name == "surface_down"
    # event time located to 1e-4 s at ~2.7 km/s of radial speed: 0.3 m
    assert abs(np.linalg.norm(res.trajectory.final_state[:3]) - R_MOON) < 0.3


def test_compile_cache_reuses_a_span_and_follows_model_changes():
    model = ForceModel(CentralGravity("MOON", MU, j2_field(-9.0884e-05, "J2000")))
    first = model.compile(ET0, ET0 + 3600.0)
    assert model.compile(ET0, ET0 + 3600.0) is first              # same span, same parts: tabulated once
    model.central = CentralGravity("MOON", MU, j2_field(-2e-4, "J2000"))
    second = model.compile(ET0, ET0 + 3600.0)
    assert second is not first and second.sh.c[2, 0] == -2e-4     # a new field is never served stale data
