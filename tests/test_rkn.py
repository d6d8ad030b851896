"""The RKN12(10) coast integrator against independent truth: the order conditions (exact rational
arithmetic), the harmonic oscillator's Taylor series, the analytic Kepler solution (Curtis Alg. 3.4),
and the DOP853 propagator on the full lunar force model."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghan.dynamics import events as ev
from guanghan.dynamics import rkn
from guanghan.dynamics.forces import (
    CentralGravity,
    FiniteBurn,
    ForceModel,
    SolarRadiationPressure,
    ThirdBody,
)
from guanghan.dynamics.kepler import Elements, elements_to_state, kepler_universal
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.rkn1210_coefficients import N_STAGES, exact
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.gravity_field import load_lunar_field
from guanghan.errors import InputError

ET0 = 660_000_000.0
MU = 4.9028001184575496e12          # gm_de440.tpc BODY301_GM (km³/s² × 1e9)
R_MOON = 1_737_400.0
EXACT = exact()
TINY = Fraction(1, 10 ** 40)         # the tabulated rationals meet the conditions to ~1e-50


def kepler_model() -> ForceModel:
    return ForceModel(CentralGravity("MOON", MU))


def orbit(alt_km=100.0, e=0.05, inc_deg=45.0, mass=1000.0):
    el = Elements(R_MOON + alt_km * 1e3, e, math.radians(inc_deg), 0.4, 0.3, 0.1)
    r, v = elements_to_state(MU, el)
    return el, SpacecraftState(ET0, r, v, mass)


# --------------------------------------------------------------------------- coefficients


def test_stages_meet_the_row_sum_condition():
    """Σ_j a_ij = c_i²/2 for every stage (Hairer I §II.14, the Nyström analogue of Σ_j a_ij = c_i)."""
    a, c = EXACT["a"], EXACT["c"]
    for i in range(N_STAGES):
        assert all(a[i][j] == 0 for j in range(i, N_STAGES))           # explicit
        assert abs(sum(a[i]) - c[i] ** 2 / 2) < TINY, f"stage {i + 1}"


@pytest.mark.parametrize("order, b_pos, b_vel", [(12, "b_pos_12", "b_vel_12"), (10, "b_pos_10", "b_vel_10")])
def test_weights_meet_the_quadrature_conditions_to_their_order(order, b_pos, b_vel):
    """y'' = t^k: Σ b_i c_i^k = 1/((k+1)(k+2)) for k ≤ p − 2 and Σ b'_i c_i^k = 1/(k+1) for k ≤ p − 1;
    the next condition fails, so the check sees the order itself."""
    c, bp, bv = EXACT["c"], EXACT[b_pos], EXACT[b_vel]

    def quad(b, k):
        return sum(bi * ci ** k for bi, ci in zip(b, c))

    for k in range(order - 1):
        assert abs(quad(bp, k) - Fraction(1, (k + 1) * (k + 2))) < TINY, f"position, k = {k}"
    for k in range(order):
        assert abs(quad(bv, k) - Fraction(1, k + 1)) < TINY, f"velocity, k = {k}"
    assert abs(quad(bv, order) - Fraction(1, order + 1)) > Fraction(1, 10 ** 12)


def _oscillator_step(b_pos, b_vel, terms):
    """One step of y'' = −y as polynomials in h (exact): coefficients of y0 and v0 in y1 and v1."""
    a, c = EXACT["a"], EXACT["c"]
    zero = [Fraction(0)] * terms
    stage_y, stage_v = [], []                      # Y_i = y0 P_i(h) + v0 Q_i(h)
    for i in range(N_STAGES):
        p, q = zero.copy(), zero.copy()
        p[0], q[1] = Fraction(1), c[i]
        for j in range(i):
            for m in range(terms - 2):             # + h² a_ij f_j, f_j = −Y_j
                p[m + 2] -= a[i][j] * stage_y[j][m]
                q[m + 2] -= a[i][j] * stage_v[j][m]
        stage_y.append(p)
        stage_v.append(q)
    y_y, y_v, v_y, v_v = zero.copy(), zero.copy(), zero.copy(), zero.copy()
    y_y[0], y_v[1], v_v[0] = Fraction(1), Fraction(1), Fraction(1)
    for i in range(N_STAGES):
        for m in range(terms - 2):
            y_y[m + 2] -= b_pos[i] * stage_y[i][m]
            y_v[m + 2] -= b_pos[i] * stage_v[i][m]
        for m in range(terms - 1):
            v_y[m + 1] -= b_vel[i] * stage_y[i][m]
            v_v[m + 1] -= b_vel[i] * stage_v[i][m]
    return y_y, y_v, v_y, v_v


@pytest.mark.parametrize("order, b_pos, b_vel", [(12, "b_pos_12", "b_vel_12"), (10, "b_pos_10", "b_vel_10")])
def test_harmonic_oscillator_step_matches_taylor_series_to_order(order, b_pos, b_vel):
    """y'' = −y from (y0, v0): y1 = y0 cos h + v0 sin h, v1 = −y0 sin h + v0 cos h; the step's series
    in h must match through h^order and differ at h^(order+1) (conditions of the tall trees)."""
    terms = order + 3
    cos = [Fraction((-1) ** (m // 2), math.factorial(m)) if m % 2 == 0 else Fraction(0) for m in range(terms)]
    sin = [Fraction((-1) ** (m // 2), math.factorial(m)) if m % 2 == 1 else Fraction(0) for m in range(terms)]
    got = _oscillator_step(EXACT[b_pos], EXACT[b_vel], terms)
    for series, truth in zip(got, (cos, sin, [-s for s in sin], cos)):
        assert all(abs(series[m] - truth[m]) < TINY for m in range(order + 1))
    assert any(abs(got[k][order + 1] - t[order + 1]) > Fraction(1, 10 ** 20)
               for k, t in enumerate((cos, sin, [-s for s in sin], cos)))


# --------------------------------------------------------------------------- the kernel


def _fixed_steps(fd, y0, span, n):
    """n equal steps (no error control: huge tolerances, max_step = h; the last one clamped to the
    end, so rounding cannot add an (n+1)-th sliver); (final state, n_eval)."""
    h = span / n * (1.0 + 1e-12)
    t_out, y_out, k_out = np.empty(n + 1), np.empty((n + 1, 7)), np.empty((n + 1, 7))
    n_eval = np.zeros(1, np.int64)
    status, steps, _ = rkn.integrate(fd, 0.0, y0, span, 1e6, np.full(7, 1e12), h, h, False,
                                     t_out, y_out, k_out, n_eval)
    assert status == rkn.DONE and steps == n
    return y_out[n], int(n_eval[0])


def test_convergence_order_on_a_kepler_orbit_is_twelve():
    """Global error at fixed steps ∝ h^12: one revolution of an e = 0.05 orbit in 6 to 10 steps
    (errors 1e-3 to 2e-6 m, far above round-off, which takes over near 1e-8 m)."""
    el = Elements(2.0e6, 0.05, 0.5, 0.2, 0.1, 0.0)
    r0, v0 = elements_to_state(MU, el)
    y0 = np.concatenate([r0, v0, [1000.0]])
    span = el.period(MU)
    fd = kepler_model().compile(ET0, ET0 + span)
    r_true, _ = kepler_universal(r0, v0, span, MU)
    ns = np.array([6, 7, 8, 9, 10])
    errs = []
    for n in ns:
        y, n_eval = _fixed_steps(fd, y0, span, n)
        assert n_eval == 1 + 17 * n                # start + 16 stages + the end point per step
        errs.append(np.linalg.norm(y[:3] - r_true))
    slope = -np.polyfit(np.log(ns), np.log(errs), 1)[0]
    assert errs[-1] > 1e-6
    assert 11.5 < slope < 12.5, f"observed order {slope:.2f}, errors {errs}"


def test_kernel_refuses_a_model_with_burns():
    _, s0 = orbit()
    model = ForceModel(CentralGravity("MOON", MU), burns=[FiniteBurn(ET0 + 10.0, 5.0, 100.0, 300.0)])
    fd = model.compile(ET0, ET0 + 100.0)
    t_out, y_out, k_out = np.empty(9), np.empty((9, 7)), np.empty((9, 7))
    status, steps, _ = rkn.integrate(fd, 0.0, s0.vector, 100.0, 1e-10, np.full(7, 1e-3), 0.0, math.inf,
                                     True, t_out, y_out, k_out, np.zeros(1, np.int64))
    assert (status, steps) == (rkn.NOT_A_COAST, 0)


# --------------------------------------------------------------------------- through propagate


def test_kepler_several_orbits_matches_the_analytic_solution():
    """Five revolutions of an e = 0.05, 100 km-periapsis-class orbit at tight tolerance: final state
    to 1e-6 m and 1e-9 m/s of Curtis Alg. 3.4."""
    el, s0 = orbit()
    t_end = (ET0 + 5 * el.period(MU)) - ET0        # the span as the propagator sees it (ET rounding)
    traj = propagate(s0, ET0 + t_end, kepler_model(), Tolerances(1e-13, 1e-8), integrator="rkn1210").trajectory
    r_ref, v_ref = kepler_universal(s0.r, s0.v, t_end, MU)
    assert np.linalg.norm(traj.final_state[:3] - r_ref) < 1e-6
    assert np.linalg.norm(traj.final_state[3:6] - v_ref) < 1e-9
    assert traj.final_state[6] == s0.mass
    assert traj.interpolant == "hermite" and traj.n_steps < 150


def test_dense_output_between_steps_matches_the_analytic_solution():
    """Sampled at 400 random epochs (the stored steps are ~535 s long, 1/13 of the orbit): position
    and velocity as measured in the module docstring (2e-4 m, 1.3e-6 m/s), velocity equal to the
    position's rate."""
    el, s0 = orbit()
    t_end = 5 * el.period(MU)
    traj = propagate(s0, ET0 + t_end, kepler_model(), Tolerances(1e-12, 1e-6), integrator="rkn1210").trajectory
    assert np.diff(traj.tau).mean() > 400.0
    ets = ET0 + np.sort(np.random.default_rng(5).uniform(0.0, t_end, 400))
    got = traj.states(ets)
    truth = np.array([np.concatenate(kepler_universal(s0.r, s0.v, et - ET0, MU)) for et in ets])
    assert np.abs(got[:, :3] - truth[:, :3]).max() < 1e-3                # m
    assert np.abs(got[:, 3:6] - truth[:, 3:6]).max() < 1e-5              # m/s
    assert np.all(got[:, 6] == s0.mass)
    # at the stored steps the interpolant returns the stored states
    at_steps = np.empty_like(traj.y)
    rkn.hermite_eval(traj.tau, traj.tau, traj.y, traj.dense, at_steps)
    assert np.abs(at_steps - traj.y).max() < 1e-8
    # velocity is the derivative of the position polynomial: central difference over ±0.01 s (in
    # tau, free of the 1e-7 s rounding of epochs near 6.6e8 s)
    taus, dt = ets - ET0, 0.01
    plus, minus, mid = (np.empty((taus.size, 7)) for _ in range(3))
    for t, out in ((taus + dt, plus), (taus - dt, minus), (taus, mid)):
        rkn.hermite_eval(t, traj.tau, traj.y, traj.dense, out)
    assert np.abs((plus[:, :3] - minus[:, :3]) / (2 * dt) - mid[:, 3:6]).max() < 1e-6      # m/s, round-off 3e-7


def test_truncated_trajectory_keeps_its_states():
    el, s0 = orbit()
    traj = propagate(s0, ET0 + el.period(MU), kepler_model(), Tolerances(1e-12, 1e-6),
                     integrator="rkn1210").trajectory
    cut = ET0 + 0.5 * (traj.tau[3] + traj.tau[4]) + 17.0
    short = traj.truncated(cut)
    ts = np.linspace(ET0, cut, 101)
    assert short.end_et == pytest.approx(cut) and short.interpolant == "hermite"
    assert np.abs(short.states(ts) - traj.states(ts)).max() < 1e-8


def test_chunking_does_not_change_the_answer():
    el, s0 = orbit()
    end = ET0 + 2 * el.period(MU)
    one = propagate(s0, end, kepler_model(), Tolerances(1e-12, 1e-6), integrator="rkn1210").trajectory
    many = propagate(s0, end, kepler_model(), Tolerances(1e-12, 1e-6), integrator="rkn1210",
                     chunk_steps=3).trajectory
    assert np.array_equal(one.tau, many.tau) and np.array_equal(one.y, many.y)
    ts = np.linspace(ET0, end, 333)
    assert np.abs(one.states(ts) - many.states(ts)).max() < 1e-9


def test_terminal_altitude_event_stops_at_impact():
    _, s0 = orbit(20.0, e=0.0, inc_deg=10.0)
    s = SpacecraftState(ET0, s0.r, s0.v * 0.97, 1000.0)                   # too slow: it comes down
    res = propagate(s, ET0 + 86400.0, kepler_model(), Tolerances(1e-12, 1e-5), integrator="rkn1210",
                    detectors=[ev.altitude(0.0, R_MOON, terminal=True, name="surface")])
    ref = propagate(s, ET0 + 86400.0, kepler_model(), Tolerances(1e-12, 1e-5),
                    detectors=[ev.altitude(0.0, R_MOON, terminal=True, name="surface")])
    assert res.terminated_by is not None and res.terminated_by.name == "surface_down"
    assert abs(np.linalg.norm(res.trajectory.final_state[:3]) - R_MOON) < 1e-3
    assert res.trajectory.end_et == pytest.approx(res.terminated_by.et)
    assert abs(res.terminated_by.et - ref.terminated_by.et) < 1e-3          # s, the DOP853 propagator


def test_burns_and_unknown_integrators_are_refused_naming_the_option():
    _, s0 = orbit()
    burn = FiniteBurn(ET0 + 10.0, 5.0, 100.0, 300.0)
    model = ForceModel(CentralGravity("MOON", MU), burns=[burn])
    with pytest.raises(InputError) as err:
        propagate(s0, ET0 + 100.0, model, integrator="rkn1210")
    assert err.value.quantity == "integrator" and err.value.value == "rkn1210"
    with pytest.raises(InputError) as err:
        propagate(s0, ET0 + 100.0, kepler_model(), integrator="rk4")
    assert err.value.quantity == "integrator" and err.value.value == "rk4"


@pytest.mark.parametrize("degree, srp, dense_m", [(50, False, 2e-3), (10, True, 1e-2)])
def test_agrees_with_dop853_on_the_full_lunar_model(degree, srp, dense_m):
    """One day of a 100 km polar orbit in GRGM1200A + Earth + Sun (+ SRP with Moon/Earth shadow): the
    RKN at rtol 1e-12 against DOP853 at rtol 1e-13. Measured: final states 5e-7 m / 9e-4 m apart,
    dense output 3e-4 m / 2.5e-3 m (the Hermite interpolant over ~115 s / ~260 s steps); DOP853 at
    the RKN's own tolerances is further off (4e-4 m / 8e-2 m)."""
    field = load_lunar_field("GRGM1200A", degree)
    model = ForceModel(CentralGravity("MOON", field.mu, field),
                       [ThirdBody("EARTH", spice_kernels.gm("EARTH")), ThirdBody("SUN", spice_kernels.gm("SUN"))],
                       SolarRadiationPressure(20.0) if srp else None)
    r, v = elements_to_state(field.mu, Elements(R_MOON + 100e3, 0.0, math.pi / 2, 0.0, 0.0, 0.0))
    s0 = SpacecraftState(ET0, r, v, 1000.0)
    end = ET0 + 86400.0
    ref = propagate(s0, end, model, Tolerances(1e-13, 1e-9)).trajectory
    got = propagate(s0, end, model, Tolerances(1e-12, 1e-6), integrator="rkn1210").trajectory
    dop = propagate(s0, end, model, Tolerances(1e-12, 1e-6)).trajectory
    assert np.linalg.norm(got.final_state[:3] - ref.final_state[:3]) < 5e-3                # m
    assert np.linalg.norm(got.final_state[3:6] - ref.final_state[3:6]) < 5e-6              # m/s
    ts = np.linspace(ET0, end, 997)
    diff = got.states(ts) - ref.states(ts)
    assert np.linalg.norm(diff[:, :3], axis=1).max() < dense_m
    assert np.linalg.norm(diff[:, 3:6], axis=1).max() < 1e-4
    assert np.linalg.norm(got.final_state[:3] - ref.final_state[:3]) < np.linalg.norm(
        dop.final_state[:3] - ref.final_state[:3])


@settings(max_examples=12, deadline=None)
@given(alt_km=st.floats(30.0, 3000.0), e=st.floats(0.0, 0.4), inc=st.floats(0.0, 180.0),
       raan=st.floats(0.0, 360.0), argp=st.floats(0.0, 360.0), nu=st.floats(0.0, 360.0))
def test_two_body_energy_and_angular_momentum_are_kept(alt_km, e, inc, raan, argp, nu):
    """Random lunar orbits with periapsis ≥ 30 km, three revolutions at rtol 1e-12: specific energy and
    angular momentum constant to 1e-11 (relative)."""
    a = (R_MOON + alt_km * 1e3) / (1.0 - e)
    el = Elements(a, e, *np.radians([inc, raan, argp, nu]))
    r, v = elements_to_state(MU, el)
    s0 = SpacecraftState(ET0, r, v, 1000.0)
    y = propagate(s0, ET0 + 3 * el.period(MU), kepler_model(), Tolerances(1e-12, 1e-6),
                  integrator="rkn1210").trajectory.y

    def energy(s):
        return 0.5 * np.dot(s[3:6], s[3:6]) - MU / np.linalg.norm(s[:3])

    e0 = energy(y[0])
    h0 = np.cross(y[0, :3], y[0, 3:6])
    assert max(abs(energy(s) / e0 - 1.0) for s in y) < 1e-11
    assert max(np.linalg.norm(np.cross(s[:3], s[3:6]) - h0) for s in y) < 1e-11 * np.linalg.norm(h0)
