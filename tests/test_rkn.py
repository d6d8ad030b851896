"""The RKN12(10) coast integrator against independent truth: the order conditions (exact rational
arithmetic), the harmonic oscillator's Taylor series, the analytic Kepler solution (Curtis Alg. 3.4)."""

import math
from fractions import Fraction

import numpy as np
import pytest

from guanghan.dynamics import rkn
from guanghan.dynamics.forces import CentralGravity, FiniteBurn, ForceModel
from guanghan.dynamics.kepler import Elements, elements_to_state, kepler_universal
from guanghan.dynamics.rkn1210_coefficients import N_STAGES, exact
from guanghan.dynamics.state import SpacecraftState

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
