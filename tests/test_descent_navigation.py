"""Descent navigation EKF: exact with perfect sensors, statistically consistent (NEES) with noisy
ones, seeded and reproducible, sensor validity limits, config validation."""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest

from guanghan.dynamics.powered_descent_dynamics import LanderDynamics, SiteFrame
from guanghan.environment import spice_kernels
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.gnc.descent_navigation import (AltimeterConfig, DescentNavigator, ImuConfig,
                                             SensorConfig, VelocimeterConfig)

ET = spice_kernels.utc_to_et("2020-12-01T14:57:00")
PERFECT = SensorConfig(imu=ImuConfig(bias_sigma_m_s2=0, scale_factor_sigma=0,
                                     noise_density_m_s2_rthz=0),
                       altimeter=AltimeterConfig(noise_m=0, noise_fraction=0),
                       velocimeter=VelocimeterConfig(noise_m_s=0, noise_fraction=0),
                       initial_position_sigma_m=0, initial_velocity_sigma_m_s=0)


@pytest.fixture(scope="module")
def frame():
    return SiteFrame.at_site(43.06, -51.92, ET)


def _terrain(e, n):
    """Gentle rolling terrain (m): exercises the altimeter's map lookup and its gradient."""
    return 30.0 * math.sin(e / 900.0) + 20.0 * math.cos(n / 700.0)


def _fly(frame, sensors, seed, duration_s=150.0, dt=0.1):
    """Scripted descent from 3 km (no guidance): truth and estimate histories and 1σ."""
    y0 = np.array([-3000.0, 500.0, 3000.0, 40.0, -5.0, -30.0, 2400.0])
    dyn = LanderDynamics(frame, 7500.0, 310.0, 10.0, 1000.0, y0, [-0.3, 0.0, 1.0])
    nav = DescentNavigator(frame, sensors, _terrain, y0[:3], y0[3:6],
                           np.random.default_rng(seed))
    c = 310.0 * STANDARD_GRAVITY
    t, rows = 0.0, []
    for k in range(int(duration_s / dt)):
        d_cmd = [-0.3 + 0.4 * k * dt / duration_s, 0.05, 1.0]
        d_cmd = np.array(d_cmd) / np.linalg.norm(d_cmd)
        m_before = dyn.y[6]
        dyn.step(dt, 0.56 + 0.1 * math.sin(k * dt / 20.0), d_cmd, -1e9)
        f_true = c * math.log(m_before / dyn.y[6]) / dt * dyn.d
        nav.propagate(nav.imu_measure(f_true, dt), dt)
        t += dt
        nav.measure_and_update(t, dyn.y[:3], dyn.y[3:6])
        rows.append((dyn.y[:6].copy(), nav.x[:6].copy(), nav.P[:6, :6].copy()))
    truth, est, cov = (np.array(x) for x in zip(*rows, strict=True))
    return truth, est, cov, nav


def test_perfect_sensors_give_the_truth(frame):
    truth, est, _, nav = _fly(frame, PERFECT, seed=0)
    err = np.abs(est - truth).max(axis=0)
    print(f"\nperfect sensors: max |error| position {err[:3].max():.2e} m, "
          f"velocity {err[3:].max():.2e} m/s")
    assert err[:3].max() < 1e-3 and err[3:].max() < 1e-6      # RK4 with a step-mean IMU
    assert nav.altimeter_updates > 1000 and nav.velocimeter_updates > 1000


def test_filter_is_consistent_nees(frame):
    """Bar-Shalom et al. (2001) §5.4.2: over seeded runs the 6-state NEES averages ~6 and the
    errors stay inside the 3σ bounds most of the time."""
    sensors = SensorConfig(imu=ImuConfig(bias_sigma_m_s2=2e-4, scale_factor_sigma=2e-4,
                                         noise_density_m_s2_rthz=1e-3),
                           altimeter=AltimeterConfig(noise_m=1.0, noise_fraction=1e-3),
                           velocimeter=VelocimeterConfig(noise_m_s=0.1),
                           initial_position_sigma_m=50.0, initial_velocity_sigma_m_s=0.5)
    nees, inside = [], []
    for seed in range(6):
        truth, est, cov, _ = _fly(frame, sensors, seed, duration_s=100.0)
        err = est - truth
        for k in range(50, len(err), 10):
            nees.append(err[k] @ np.linalg.solve(cov[k], err[k]))
        sig = np.sqrt(np.einsum("kii->ki", cov))
        inside.append(np.mean(np.abs(err) <= 3 * sig))
    mean_nees = float(np.mean(nees))
    print(f"\nNEES mean {mean_nees:.2f} (6 states), inside 3σ {100 * np.mean(inside):.1f} %")
    assert 2.0 < mean_nees < 12.0
    assert np.mean(inside) > 0.95


def test_same_seed_is_bit_identical_and_seeds_differ(frame):
    a = _fly(frame, SensorConfig(), seed=7, duration_s=20.0)[1]
    b = _fly(frame, SensorConfig(), seed=7, duration_s=20.0)[1]
    c = _fly(frame, SensorConfig(), seed=8, duration_s=20.0)[1]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sensor_validity_limits(frame):
    """No altimeter beyond its range, no velocimeter above its height limit."""
    sensors = SensorConfig(altimeter=AltimeterConfig(max_range_m=1000.0),
                           velocimeter=VelocimeterConfig(max_height_m=500.0))
    nav = DescentNavigator(frame, sensors, _terrain, [0, 0, 3000.0], [0, 0, -10.0],
                           np.random.default_rng(1))
    assert nav.measure_and_update(0.0, np.array([0, 0, 3000.0]), np.zeros(3)) is None
    assert nav.altimeter_updates == 0 and nav.velocimeter_updates == 0
    reading = nav.measure_and_update(1.0, np.array([0, 0, 400.0]), np.zeros(3))
    assert reading == pytest.approx(400.0 - _terrain(0, 0), abs=1.0)
    assert nav.altimeter_updates == 1 and nav.velocimeter_updates == 1


def test_bad_configs_are_refused(frame):
    with pytest.raises(pydantic.ValidationError, match="noise_m"):
        AltimeterConfig(noise_m=-1.0)
    with pytest.raises(pydantic.ValidationError, match="rate_hz"):
        VelocimeterConfig(rate_hz=0.0)
    with pytest.raises(pydantic.ValidationError, match="extra"):
        ImuConfig(bias=1.0)
    with pytest.raises(TypeError, match="rng"):
        DescentNavigator(frame, SensorConfig(), _terrain, np.zeros(3), np.zeros(3), 42)
