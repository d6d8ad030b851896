"""Powered-descent dynamics: site frame, RK4 kernel against an independent integrator, rocket
equation, rate-limited pointing, ground contact, optional GRGM1200A gravity."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from guanghan.dynamics.powered_descent_dynamics import LanderDynamics, SiteFrame
from guanghan.environment import spice_kernels
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.environment.gravity_field import acceleration, load_lunar_field

ET = spice_kernels.utc_to_et("2020-12-01T14:57:00")       # Chang'e-5 powered descent start
SITE = (43.06, -51.92)                                     # Chang'e-5 area, Mons Rümker


@pytest.fixture(scope="module")
def frame():
    return SiteFrame.at_site(*SITE, ET)


def test_site_frame_round_trip_and_rotation(frame):
    p = frame.point_uprange(450e3, 270.0, 15e3)
    assert frame.altitude(p) == pytest.approx(15e3, abs=1e-6)
    state = frame.to_state(ET, p, [1700.0, 0.0, 0.0], 3700.0)
    p2, v2 = frame.from_state(state)
    np.testing.assert_allclose(p2, p, atol=1e-6)
    np.testing.assert_allclose(v2, [1700.0, 0.0, 0.0], atol=1e-9)
    # The Moon's sidereal rotation, 2π / 27.3217 d, from SPICE.
    period_d = 2 * math.pi / np.linalg.norm(frame.omega) / 86400.0
    assert period_d == pytest.approx(27.3217, rel=2e-3)
    lat, lon = frame.latlon_deg([0.0, 0.0, 0.0])
    assert (lat, lon) == pytest.approx(SITE, abs=1e-9)


def _rhs(frame, thrust, d, c):
    def f(t, y):
        a = frame.apparent_acceleration(y[:3], y[3:6])
        return np.concatenate([y[3:6], a + thrust / y[6] * d, [-thrust / c]])
    return f


def test_rk4_matches_independent_integrator(frame):
    """Fixed-step RK4 (0.2 s, numba) against scipy DOP853 (rtol 1e-12) on a 120 s braking arc."""
    p0 = frame.point_uprange(300e3, 270.0, 15e3)
    y0 = np.concatenate([p0, [1690.0, 0.0, 0.0], [3700.0]])
    d = np.array([-0.95, 0.0, 0.3122])
    d /= np.linalg.norm(d)
    dyn = LanderDynamics(frame, 7500.0, 310.0, 90.0, 1000.0, y0, d)
    for _ in range(600):
        dyn.step(0.2, 1.0, d, -1e9)
    ref = solve_ivp(_rhs(frame, 7500.0, d, 310.0 * STANDARD_GRAVITY), (0, 120.0), y0,
                    method="DOP853", rtol=1e-12, atol=1e-9).y[:, -1]
    np.testing.assert_allclose(dyn.y[:3], ref[:3], atol=1e-3)        # m
    np.testing.assert_allclose(dyn.y[3:6], ref[3:6], atol=1e-5)      # m/s
    assert dyn.y[6] == pytest.approx(ref[6], rel=1e-12)


def test_rocket_equation_in_free_space(frame):
    """μ = 0, ω = 0: Δv = Isp g0 ln(m0/m1) along the thrust (Tsiolkovsky), m1 = m0 − ṁ t."""
    free = dataclasses.replace(frame, mu=0.0, omega=np.zeros(3))
    dyn = LanderDynamics(free, 7500.0, 310.0, 10.0, 1000.0, [0, 0, 1e5, 0, 0, 0, 3700.0],
                         [0, 0, 1])
    for _ in range(1000):
        dyn.step(0.1, 0.6, [0, 0, 1], -1e9)
    c = 310.0 * STANDARD_GRAVITY
    m1 = 3700.0 - 0.6 * 7500.0 / c * 100.0
    assert dyn.y[6] == pytest.approx(m1, rel=1e-12)
    assert dyn.y[5] == pytest.approx(c * math.log(3700.0 / m1), rel=1e-10)


def test_thrust_direction_is_rate_limited(frame):
    dyn = LanderDynamics(frame, 7500.0, 310.0, 10.0, 1000.0, [0, 0, 1e4, 0, 0, 0, 3000.0],
                         [0, 0, 1])
    for _ in range(50):                                      # 5 s at 10°/s toward east
        dyn.step(0.1, 0.3, [1, 0, 0], -1e9)
    assert math.degrees(math.acos(dyn.d[2])) == pytest.approx(50.0, abs=1e-9)
    for _ in range(50):
        dyn.step(0.1, 0.3, [1, 0, 0], -1e9)
    np.testing.assert_allclose(dyn.d, [1, 0, 0], atol=1e-12)


def test_ground_contact_free_fall(frame):
    """Free fall from 10 m: contact at the ground height, speed √(2 g h) (g ~ constant)."""
    still = dataclasses.replace(frame, omega=np.zeros(3))
    dyn = LanderDynamics(still, 7500.0, 310.0, 10.0, 1000.0, [0, 0, 12.0, 0, 0, 0, 2000.0],
                         [0, 0, 1])
    t, frac = 0.0, 1.0
    while frac == 1.0:
        frac = dyn.step(0.1, 0.0, [0, 0, 1], 2.0)           # terrain 2 m above the sphere
        t += frac * 0.1
    g = still.surface_gravity()
    assert still.altitude(dyn.y[:3]) == pytest.approx(2.0, abs=1e-5)
    assert t == pytest.approx(math.sqrt(2 * 10.0 / g), rel=1e-4)
    assert -dyn.y[5] == pytest.approx(math.sqrt(2 * g * 10.0), rel=1e-4)


def test_optional_grgm1200a_field_matches_gravity_module():
    field = load_lunar_field("GRGM1200A", 8)
    fr = SiteFrame.at_site(*SITE, ET, field=field)
    p, v = fr.point_uprange(100e3, 270.0, 15e3), np.zeros(3)
    a = fr.apparent_acceleration(p, v)
    # Independent: the gravity module in MOON_PA plus the rotating-frame terms.
    r_pa = fr.pa_from_enu @ (p - fr.centre)
    g = fr.pa_from_enu.T @ acceleration(field, r_pa)
    w = fr.omega
    expected = g - np.cross(w, np.cross(w, p - fr.centre))
    np.testing.assert_allclose(a, expected, rtol=1e-12, atol=1e-15)
    point = SiteFrame.at_site(*SITE, ET).apparent_acceleration(p, v)
    diff = np.linalg.norm(a - point)
    assert 1e-5 < diff < 2e-2            # degree-8 anomaly: mGal-level, far below g


def test_bad_inputs_name_the_parameter(frame):
    with pytest.raises(ValueError, match="max_thrust_n = -1"):
        LanderDynamics(frame, -1.0, 310.0, 10.0, 1000.0, [0, 0, 10, 0, 0, 0, 2000.0], [0, 0, 1])
    with pytest.raises(ValueError, match="dry_mass_kg = 2500"):
        LanderDynamics(frame, 7500.0, 310.0, 10.0, 2500.0, [0, 0, 10, 0, 0, 0, 2000.0], [0, 0, 1])
    with pytest.raises(ValueError, match="latitude_deg = 95"):
        SiteFrame.at_site(95.0, 0.0, ET)
