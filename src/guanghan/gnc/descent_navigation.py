"""Descent navigation: IMU, laser altimeter and velocimeter fused in an extended Kalman filter.

The guidance flies on this estimate, never on the truth. Everything is in the landing-site frame
of :mod:`guanghan.dynamics.powered_descent_dynamics` (East-North-Up at the aim point, rotating with
the Moon).

Sensors (all errors drawn from one seeded ``numpy.random.Generator``):
    * IMU accelerometer: measures the specific force (thrust/m) averaged over each step,
      f̃ = (1 + s) ∘ f + b + w, with a constant per-axis bias b ~ N(0, σ_b²), scale-factor error
      s ~ N(0, σ_s²) and white noise of density q (m/s²/√Hz): per-sample σ = q/√dt. Attitude is
      taken as known (no gyro errors): the specific force is resolved in site axes.
    * Laser altimeter: range along the local vertical (nadir) to the terrain under the lander, with
      a constant bias, white noise (absolute + proportional to range), an update rate and a
      maximum range.
    * Velocimeter (3-beam Doppler/laser, resolved in site axes): ground-relative velocity with
      white noise (absolute + proportional to speed), an update rate, valid below a maximum height.
    * Hazard camera, after the hazard-avoidance decision: the chosen site's horizontal offset from
      the lander with white noise (terrain-relative tracking; not fused in the filter, the
      terminal guidance steers on it).

Filter: 12 states x = [p, v, b, s] (position, velocity, accelerometer bias, scale factor).
Propagation with the IMU through the same RK4 kernel as the truth, using the filter's own
apparent-acceleration model (point mass + Coriolis + centrifugal of the site frame it is given);
covariance with Φ = I + F dt + F² dt²/2 (Jacobian F with the point-mass gravity gradient and the
Coriolis matrix) and Q from the accelerometer noise density. Altimeter update: predicted range
h(p̂) − terrain(sub-point of p̂), Jacobian from the local vertical and a central difference of
the caller's terrain function. Velocimeter update: H = [0 I 0 0]. Updates use the Joseph form.

Assumptions and limitations
    * The altimeter bias is not estimated: its variance is added to the measurement variance
      (conservative for the covariance, but the errors it causes are correlated in time).
    * Nadir ranging (no slant-range geometry along a body axis, no beam footprint); the terrain
      function is trusted as the map; no terrain-relative (crater) navigation, so the horizontal
      position is only as good as the initial knowledge and the velocity integration.
    * No gyro errors, no sensor lever arms, no measurement latency.

References
    Brown, R. G. & Hwang, P. Y. C., *Introduction to Random Signals and Applied Kalman Filtering*
    (4th ed., 2012): ch. 4 (discrete Kalman filter, Joseph-form covariance update), ch. 7
    (extended Kalman filter), ch. 3 (white-noise spectral density → discrete variance q²/Δt).
    Bar-Shalom, Y., Li, X. R. & Kirubarajan, T., *Estimation with Applications to Tracking and
    Navigation* (2001), §5.4 (normalised estimation error squared, NEES, consistency test).
    Groves, P. D., *Principles of GNSS, Inertial, and Multisensor Integrated Navigation Systems*
    (2nd ed., 2013), ch. 4 (accelerometer bias, scale-factor and noise error model).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit
from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.dynamics.powered_descent_dynamics import SiteFrame, rk4_step


class ImuConfig(ConfigModel):
    """Accelerometer error model (Groves 2013 ch. 4, without cross-coupling)."""

    bias_sigma_m_s2: float = Field(default=5e-5, ge=0, le=0.1, description=(
        "1σ constant bias per axis (m/s²); 5e-5 ≈ 5 µg, navigation grade; above 0.1 is a fault"))
    scale_factor_sigma: float = Field(default=5e-5, ge=0, le=0.05, description=(
        "1σ scale-factor error per axis (dimensionless; 5e-5 = 50 ppm)"))
    noise_density_m_s2_rthz: float = Field(default=3e-5, ge=0, le=0.1, description=(
        "white-noise density (m/s²/√Hz), i.e. velocity random walk"))


class AltimeterConfig(ConfigModel):
    """Nadir laser altimeter."""

    bias_sigma_m: float = Field(default=0.0, ge=0, le=100, description=(
        "1σ of the constant range bias (m); not estimated, added to the measurement variance"))
    noise_m: float = Field(default=0.1, ge=0, le=100, description="1σ white range noise (m)")
    noise_fraction: float = Field(default=1e-3, ge=0, le=0.1, description=(
        "1σ white range noise proportional to the range (dimensionless)"))
    rate_hz: float = Field(default=10.0, gt=0, le=1000, description="update rate (Hz)")
    max_range_m: float = Field(default=20_000.0, gt=0, le=200_000, description=(
        "largest range measured (m); the Chang'e-class laser rangers work from ~15–20 km"))


class VelocimeterConfig(ConfigModel):
    """Three-beam velocimeter, resolved in site axes."""

    noise_m_s: float = Field(default=0.05, ge=0, le=10, description="1σ white noise per axis (m/s)")
    noise_fraction: float = Field(default=1e-3, ge=0, le=0.1, description=(
        "1σ white noise per axis proportional to the speed (dimensionless)"))
    rate_hz: float = Field(default=10.0, gt=0, le=1000, description="update rate (Hz)")
    max_height_m: float = Field(default=4_000.0, gt=0, le=50_000, description=(
        "valid below this height over the terrain (m): Doppler lock is lost higher up"))


class SensorConfig(ConfigModel):
    """Navigation sensors and the initial knowledge of the state (1σ per axis)."""

    imu: ImuConfig = Field(default_factory=ImuConfig)
    altimeter: AltimeterConfig = Field(default_factory=AltimeterConfig)
    velocimeter: VelocimeterConfig = Field(default_factory=VelocimeterConfig)
    initial_position_sigma_m: float = Field(default=20.0, ge=0, le=100_000, description=(
        "1σ per axis of the initial position error (m): orbit determination before the descent"))
    initial_velocity_sigma_m_s: float = Field(default=0.02, ge=0, le=100, description=(
        "1σ per axis of the initial velocity error (m/s)"))
    site_tracking_noise_m: float = Field(default=0.3, ge=0, le=50, description=(
        "1σ per axis of the hazard camera's measurement of the chosen site relative to the "
        "lander (m), used after the hazard-avoidance decision"))


@njit(cache=True)
def _propagate_covariance(P, p, radius, mu, omega, f_hat, dt, q):
    """P ← Φ P Φᵀ + Q in place, Φ = I + F dt + F² dt²/2 with the 12-state Jacobian F: ṗ = v,
    v̇ = G(p) p − 2 ω × v − b − diag(f̂) s (point-mass gravity gradient G); Q from white
    acceleration noise of spectral density ``q`` (Brown & Hwang ch. 3)."""
    F = np.zeros((12, 12))
    dx, dy, dz = p[0], p[1], p[2] + radius
    r = math.sqrt(dx * dx + dy * dy + dz * dz)
    e = np.array([dx / r, dy / r, dz / r])
    k = mu / r ** 3
    for i in range(3):
        F[i, 3 + i] = 1.0
        F[3 + i, 6 + i] = -1.0
        F[3 + i, 9 + i] = -f_hat[i]
        for j in range(3):
            F[3 + i, j] = k * (3.0 * e[i] * e[j] - (1.0 if i == j else 0.0))
    wx, wy, wz = omega[0], omega[1], omega[2]            # −2 [ω]×
    F[3, 4], F[3, 5] = 2.0 * wz, -2.0 * wy
    F[4, 3], F[4, 5] = -2.0 * wz, 2.0 * wx
    F[5, 3], F[5, 4] = 2.0 * wy, -2.0 * wx
    phi = np.eye(12) + F * dt + (F @ F) * (0.5 * dt * dt)
    P[:, :] = phi @ P @ phi.T
    for i in range(3):
        P[i, i] += q * dt ** 3 / 3.0
        P[i, 3 + i] += q * dt ** 2 / 2.0
        P[3 + i, i] += q * dt ** 2 / 2.0
        P[3 + i, 3 + i] += q * dt


@njit(cache=True)
def _joseph_update(x, P, z_res, H, R):
    """x, P ← EKF update in place (Brown & Hwang ch. 4, Joseph form)."""
    S = H @ P @ H.T + R
    if np.max(np.abs(S)) < 1e-30:
        return
    K = P @ H.T @ np.linalg.inv(S)
    x += K @ z_res
    ikh = np.eye(12) - K @ H
    P[:, :] = ikh @ P @ ikh.T + K @ R @ K.T


class DescentNavigator:
    """EKF navigation of one descent. ``frame`` supplies the filter's gravity model (use a
    point-mass frame even if the truth has a field); ``terrain_height_m(east_m, north_m)`` is
    the map; ``p_true``, ``v_true`` the true initial state, from which the initial estimate is
    drawn with the configured 1σ; ``rng`` draws every sensor error."""

    def __init__(self, frame: SiteFrame, sensors: SensorConfig, terrain_height_m: Callable,
                 p_true, v_true, rng: np.random.Generator):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng = {rng!r}: must be a numpy.random.Generator (seeded)")
        self.frame, self.cfg, self.terrain, self.rng = frame, sensors, terrain_height_m, rng
        s = sensors
        sp, sv = s.initial_position_sigma_m, s.initial_velocity_sigma_m_s
        sb, ss = s.imu.bias_sigma_m_s2, s.imu.scale_factor_sigma
        self.true_bias = rng.normal(0.0, 1.0, 3) * sb
        self.true_scale = rng.normal(0.0, 1.0, 3) * ss
        self.x = np.concatenate([np.asarray(p_true, float) + rng.normal(0.0, 1.0, 3) * sp,
                                 np.asarray(v_true, float) + rng.normal(0.0, 1.0, 3) * sv,
                                 np.zeros(6)])
        self.P = np.diag(np.repeat([sp ** 2, sv ** 2, sb ** 2, ss ** 2], 3))
        self.altimeter_bias_m = rng.normal() * s.altimeter.bias_sigma_m
        self._next_alt, self._next_vel = 0.0, 0.0
        self.last_altimeter_m: float | None = None
        self._y, self._out = np.zeros(7), np.zeros(7)
        self._f_hat = np.zeros(3)
        self.altimeter_updates = self.velocimeter_updates = 0

    @property
    def p(self) -> np.ndarray:
        return self.x[0:3].copy()

    @property
    def v(self) -> np.ndarray:
        return self.x[3:6].copy()

    @property
    def sigma(self) -> np.ndarray:
        """1σ of the 12 states (m, m/s, m/s², -)."""
        return np.sqrt(np.maximum(np.diag(self.P), 0.0))

    # ------------------------------------------------------------------ sensors (truth side)
    def imu_measure(self, f_true, dt: float) -> np.ndarray:
        """Accelerometer output for the true mean specific force ``f_true`` (m/s²) over ``dt``."""
        q = self.cfg.imu.noise_density_m_s2_rthz
        noise = self.rng.normal(0.0, 1.0, 3) * (q / math.sqrt(dt)) if q > 0 else np.zeros(3)
        return (1.0 + self.true_scale) * np.asarray(f_true, float) + self.true_bias + noise

    def _sub_point(self, p) -> tuple[float, float, float]:
        """Height above the sphere and the site-frame east/north of the sub-point of ``p``."""
        rad = self.frame.radius_m
        x, y, z = float(p[0]), float(p[1]), float(p[2]) + rad
        r = math.sqrt(x * x + y * y + z * z)
        return r - rad, rad / r * x, rad / r * y

    def true_range(self, p_true) -> float:
        """Noise-free nadir range (m) from ``p_true`` to the terrain."""
        h, e, n = self._sub_point(p_true)
        return h - float(self.terrain(e, n))

    def site_offset(self, site_east_north, p_true) -> np.ndarray:
        """Hazard-camera measurement of the chosen site's east/north offset from the lander (m):
        truth plus white noise of ``site_tracking_noise_m`` per axis (terrain-relative)."""
        rel = np.asarray(site_east_north, float) - np.asarray(p_true, float)[0:2]
        sig = self.cfg.site_tracking_noise_m
        return rel + (self.rng.normal(0.0, 1.0, 2) * sig if sig > 0 else 0.0)

    # ------------------------------------------------------------------ filter
    def propagate(self, f_meas, dt: float) -> None:
        """Time update over ``dt`` s with the accelerometer output ``f_meas`` (m/s²)."""
        fr = self.frame
        f_hat = (np.asarray(f_meas, float) - self.x[6:9]) / (1.0 + self.x[9:12])
        fn = math.sqrt(float(f_hat @ f_hat))
        y = self._y
        y[0:6] = self.x[0:6]
        y[6] = 1.0
        d = f_hat / fn if fn > 0 else np.array([0.0, 0.0, 1.0])
        rk4_step(y, dt, fn, d, 0.0, fr.mu, fr.radius_m, fr.omega, False, fr.pa_from_enu, fr.sh,
                 self._out)
        _propagate_covariance(self.P, self.x[0:3], fr.radius_m, fr.mu, fr.omega, f_hat, dt,
                              self.cfg.imu.noise_density_m_s2_rthz ** 2)
        self.x[0:6] = self._out[0:6]

    def _update(self, z_res, H, R) -> None:
        """EKF measurement update with residual ``z_res``, Jacobian ``H``, noise ``R`` (Joseph)."""
        _joseph_update(self.x, self.P, np.ascontiguousarray(z_res, dtype=float),
                       np.ascontiguousarray(H, dtype=float), np.ascontiguousarray(R, dtype=float))

    def measure_and_update(self, t: float, p_true, v_true) -> float | None:
        """Take the altimeter / velocimeter readings due at time ``t`` (s) from the true state and
        fuse them; returns the altimeter reading (m) if one was taken, else None."""
        reading = None
        alt, vel = self.cfg.altimeter, self.cfg.velocimeter
        true_range = self.true_range(p_true)
        if t >= self._next_alt - 1e-9:
            self._next_alt = t + 1.0 / alt.rate_hz
            if 0.0 < true_range <= alt.max_range_m:
                sig = math.hypot(alt.noise_m, alt.noise_fraction * true_range)
                reading = true_range + self.altimeter_bias_m + self.rng.normal() * sig
                self._fuse_altimeter(reading, sig ** 2 + alt.bias_sigma_m ** 2)
                self.last_altimeter_m = reading
        if t >= self._next_vel - 1e-9:
            self._next_vel = t + 1.0 / vel.rate_hz
            if true_range <= vel.max_height_m:
                v_true = np.asarray(v_true, float)
                sig = math.hypot(vel.noise_m_s, vel.noise_fraction * float(np.linalg.norm(v_true)))
                z = v_true + self.rng.normal(0.0, 1.0, 3) * sig
                H = np.zeros((3, 12))
                H[:, 3:6] = np.eye(3)
                self._update(z - self.x[3:6], H, np.eye(3) * sig ** 2)
                self.velocimeter_updates += 1
        return reading

    def _fuse_altimeter(self, reading: float, var: float) -> None:
        h, e, n = self._sub_point(self.x[0:3])
        step = 5.0
        dte = (self.terrain(e + step, n) - self.terrain(e - step, n)) / (2 * step)
        dtn = (self.terrain(e, n + step) - self.terrain(e, n - step)) / (2 * step)
        predicted = h - float(self.terrain(e, n))
        H = np.zeros((1, 12))
        H[0, 0:3] = self.frame.local_up(self.x[0:3]) - np.array([dte, dtn, 0.0])
        self._update(np.array([reading - predicted]), H, np.array([[var]]))
        self.altimeter_updates += 1
