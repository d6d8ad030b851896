"""Relative navigation for rendezvous: the target's Hill (LVLH) frame, Clohessy–Wiltshire motion,
and an extended Kalman filter of the chaser's relative position and velocity.

Frame. The Hill frame of the target (Clohessy & Wiltshire 1960): x radial (outward, "R-bar"
points the other way, to the Moon), y along-track completing the triad (≈ the velocity, "V-bar"),
z along the orbit normal h = r × v. Relative states are ρ = [x, y, z] (m) and ρ̇ (m/s) measured in
this rotating frame. (Fehse 2003 writes the same frame as x = V-bar, y = −H-bar, z = R-bar.)
The repository's :mod:`guanghan.dynamics.local_frames` only has VNB axes, hence the Hill axes
here.

Sensor: a rendezvous radar / lidar / camera fused as range ρ, range-rate ρ̇ and two line-of-sight
angles in the Hill frame (in-plane azimuth atan2(y, x), out-of-plane elevation), with white
noise, constant biases (drawn once per run; not estimated), an update rate and a range window.

Filter (6 states [ρ, ρ̇]): the state predicted with the closed-form CW transition matrix (or,
``dynamics = "nonlinear_circular"``, by integrating the nonlinear relative motion about a circular
orbit), the covariance always with the CW matrix; commanded thruster impulses added at the epoch
they act within the step, with their execution variance; process noise of a continuous white
acceleration (plus, with CW, the size of the second-order terms CW neglects at the current
range); iterated-EKF measurement update, covariance in Joseph form. Consistency is checked with
the NEES (Bar-Shalom et al. 2001 §5.4.2).

Assumptions and limitations
    * CW dynamics assume a circular target orbit and |ρ| ≪ r; the neglected second-order
      terms, a = (3n²/r)[−x² + (y² + z²)/2, xy, xz] (London 1963), the filter may add as white
      process noise of density a²/n (``hcw_model_error``: the density whose velocity random
      walk reaches a·(1/n) over the 1/n s such an error persists) — a deterministic error
      treated as random, so beyond ~10 km prefer ``dynamics = "nonlinear_circular"``.
    * The frame's rotation rate is the two-body h/r² about the normal (no out-of-plane
      rotation from perturbing forces).
    * Measurement biases are not estimated: their variance is added to the noise variance
      (conservative in size but correlated in time); attitude-knowledge errors are part of the
      angle noise; no lever arms, no latency.

References
    Clohessy, W. H. & Wiltshire, R. S. (1960), "Terminal guidance system for satellite
    rendezvous", J. Aerospace Sci. 27(9), 653–658 (linearised relative motion and its solution).
    London, H. S. (1963), "Second approximation to the solution of rendezvous equations",
    AIAA J. 1(7), 1691–1693 (second-order terms of the relative gravity).
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), §7.2 (relative
    motion in the rotating frame: ρ̇ = Q(v_B − v_A) − Ω × ρ), §7.4 (CW equations, the matrices
    Φ_rr, Φ_rv, Φ_vr, Φ_vv), §7.5 (two-impulse rendezvous).
    Fehse, W., *Automated Rendezvous and Docking of Spacecraft* (2003), ch. 3 (frames, drift
    of coelliptic orbits), ch. 7 (rendezvous sensors: RF radar, laser range finder, camera).
    Bar-Shalom, Y., Li, X. R. & Kirubarajan, T., *Estimation with Applications to Tracking and
    Navigation* (2001): §6.2.2 (discretised continuous white-noise acceleration), §5.4.2 (NEES).
    Brown, R. G. & Hwang, P. Y. C. (2012), ch. 4 and 7 (EKF, Joseph-form update).
    Bell, B. M. & Cathey, F. W. (1993), "The iterated Kalman filter update as a Gauss–Newton
    method", IEEE Trans. Autom. Control 38(2), 294–297.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.kepler import kepler_universal
from guanghan.dynamics.relative_motion import nonlinear_circular
from guanghan.dynamics.vector3 import cross

# ------------------------------------------------------------------------ frame and kinematics


def hill_axes(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows: radial R = r/|r|, along-track S = W × R, normal W = h/|h| (inertial components)."""
    rh = r / math.sqrt(r @ r)
    wh = cross(r, v)
    wh /= math.sqrt(wh @ wh)
    return np.array([rh, cross(wh, rh), wh])


def _frame_rate(rt: np.ndarray, vt: np.ndarray) -> float:
    """|h|/r² (rad/s): the Hill frame's rotation rate about its normal (two-body)."""
    h = cross(rt, vt)
    return math.sqrt(h @ h) / (rt @ rt)


def relative_state(target_rv: np.ndarray, chaser_rv: np.ndarray) -> np.ndarray:
    """Chaser state relative to the target in the target's Hill frame: [ρ (m), ρ̇ (m/s)].

    Curtis (2020) §7.2: ρ = Q (r_B − r_A), ρ̇ = Q (v_B − v_A) − Ω × ρ, Ω = (h/r²) ẑ."""
    rt, vt = target_rv[:3], target_rv[3:6]
    q = hill_axes(rt, vt)
    rho = q @ (chaser_rv[:3] - rt)
    w = _frame_rate(rt, vt)
    rel_v = q @ (chaser_rv[3:6] - vt)
    return np.array([rho[0], rho[1], rho[2], rel_v[0] + w * rho[1], rel_v[1] - w * rho[0], rel_v[2]])


def chaser_from_relative(target_rv: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`relative_state`: the chaser's inertial [r (m), v (m/s)]."""
    rt, vt = target_rv[:3], target_rv[3:6]
    q = hill_axes(rt, vt)
    w = _frame_rate(rt, vt)
    rho, rho_dot = np.asarray(rel[:3], float), np.asarray(rel[3:6], float)
    v_in = rho_dot + np.array([-w * rho[1], w * rho[0], 0.0])
    return np.concatenate([rt + q.T @ rho, vt + q.T @ v_in])


def mean_motion(target_rv: np.ndarray, mu: float) -> float:
    """Mean motion n = sqrt(μ/a³) (rad/s) of the target's osculating orbit (vis-viva a)."""
    r, v = float(np.linalg.norm(target_rv[:3])), float(np.linalg.norm(target_rv[3:6]))
    a = 1.0 / (2.0 / r - v * v / mu)
    return math.sqrt(mu / a ** 3)


def two_body_relative(target_rv: np.ndarray, rel: np.ndarray, dt: float, mu: float):
    """(target_rv, rel) after ``dt`` s of exact two-body motion of both vehicles (Kepler)."""
    chaser = chaser_from_relative(target_rv, rel)
    rt, vt = kepler_universal(target_rv[:3], target_rv[3:6], dt, mu)
    rc, vc = kepler_universal(chaser[:3], chaser[3:6], dt, mu)
    target_new = np.concatenate([rt, vt])
    return target_new, relative_state(target_new, np.concatenate([rc, vc]))


# ------------------------------------------------------------------------ Clohessy–Wiltshire


@lru_cache(maxsize=64)
def cw_matrix(n: float, t: float) -> np.ndarray:
    """6×6 CW state-transition matrix over ``t`` (s) at mean motion ``n`` (rad/s), read-only.

    Closed-form solution of ẍ − 3n²x − 2nẏ = 0, ÿ + 2nẋ = 0, z̈ + n²z = 0
    (Clohessy & Wiltshire 1960); the block form [[Φ_rr, Φ_rv], [Φ_vr, Φ_vv]] is Curtis (2020) §7.4."""
    n, t = float(n), float(t)
    s, c, nt = math.sin(n * t), math.cos(n * t), n * t
    phi = np.array([
        [4 - 3 * c, 0, 0, s / n, 2 * (1 - c) / n, 0],
        [6 * (s - nt), 1, 0, 2 * (c - 1) / n, (4 * s - 3 * nt) / n, 0],
        [0, 0, c, 0, 0, s / n],
        [3 * n * s, 0, 0, c, 2 * s, 0],
        [6 * n * (c - 1), 0, 0, -2 * s, 4 * c - 3, 0],
        [0, 0, -n * s, 0, 0, c],
    ])
    phi.flags.writeable = False
    return phi


def cw_targeting_velocity(rho0: np.ndarray, rho_f: np.ndarray, n: float, t: float,
                          v_now: np.ndarray | None = None) -> np.ndarray:
    """Velocity (m/s) needed at ρ0 (m) to reach ρ_f (m) after ``t`` s on CW motion:
    ρ̇0 = Φ_rv⁻¹ (ρ_f − Φ_rr ρ0) (Curtis 2020 §7.5, two-impulse rendezvous).

    Φ_rv is singular in-plane when n t is a multiple of 2π and out-of-plane when it is a
    non-zero multiple of π; near one (|sin n t| < 0.1, n t > π/2) the out-of-plane velocity is
    left at ``v_now[2]`` (no out-of-plane command)."""
    phi = cw_matrix(n, t)
    rho0, rho_f = np.asarray(rho0, float), np.asarray(rho_f, float)
    d = rho_f - phi[:3, :3] @ rho0
    out = np.empty(3)
    out[:2] = np.linalg.solve(phi[:2, 3:5], d[:2])
    s = math.sin(n * t)
    if abs(s) >= 0.1 or n * t < 0.5 * math.pi or v_now is None:
        out[2] = d[2] * n / s
    else:
        out[2] = v_now[2]
    return out


def coelliptic_drift_m_s(n: float, radial_m: float) -> float:
    """Along-track drift rate ẏ = −(3/2) n x (m/s) of a circular orbit ``radial_m`` above the
    target (CW with ẋ0 = 0 and no secular radial motion; Fehse 2003 ch. 3)."""
    return -1.5 * n * radial_m


# ------------------------------------------------------------------------ sensor and filter


class RelativeSensor(ConfigModel):
    """Rendezvous sensor (radar, lidar or camera with range): noise, biases, rate, range window."""

    range_noise_m: float = Field(default=0.05, ge=0, le=1e4, description="1σ range noise (m)")
    range_noise_fraction: float = Field(default=5e-4, ge=0, le=0.1, description=(
        "1σ range noise proportional to the range (dimensionless)"))
    range_rate_noise_m_s: float = Field(default=0.005, ge=0, le=100, description=(
        "1σ range-rate noise (m/s)"))
    angle_noise_deg: float = Field(default=0.02, ge=0, le=10, description=(
        "1σ noise of each line-of-sight angle (deg), attitude knowledge included"))
    range_bias_sigma_m: float = Field(default=0.0, ge=0, le=1e4, description=(
        "1σ of the constant range bias (m), drawn once per run, not estimated"))
    angle_bias_sigma_deg: float = Field(default=0.0, ge=0, le=10, description=(
        "1σ of the constant bias of each angle (deg), drawn once per run, not estimated"))
    min_range_m: float = Field(default=0.0, ge=0, le=1e3, description="no reading below (m)")
    max_range_m: float = Field(default=100_000.0, gt=0, le=1e7, description="no reading beyond (m)")
    rate_hz: float = Field(default=0.2, gt=0, le=100, description="update rate (Hz)")

    @model_validator(mode="after")
    def _window(self):
        if self.min_range_m >= self.max_range_m:
            fail(f"must be below max_range_m = {self.max_range_m}", "min_range_m", self.min_range_m)
        return self


class RelativeNavConfig(ConfigModel):
    """Initial knowledge (1σ per axis) and process noise of the relative-navigation filter."""

    position_sigma_m: float = Field(default=100.0, gt=0, le=1e6, description=(
        "1σ per axis of the initial relative position error (m)"))
    velocity_sigma_m_s: float = Field(default=0.1, gt=0, le=1e3, description=(
        "1σ per axis of the initial relative velocity error (m/s)"))
    accel_noise_density_m_s2_rthz: float = Field(default=1e-5, ge=0, le=1.0, description=(
        "white relative-acceleration noise density (m/s²/√Hz): unmodelled forces"))
    hcw_model_error: bool = Field(default=True, description=(
        "with the CW state prediction, add the size of CW's neglected second-order terms as "
        "white process noise"))
    dynamics: Literal["hcw", "nonlinear_circular"] = Field(default="hcw", description=(
        "state prediction: the CW transition matrix, or the nonlinear relative motion about a "
        "circular target orbit (RK4); the covariance always uses the CW matrix"))


def draw_biases(sensor: RelativeSensor, rng: np.random.Generator) -> np.ndarray:
    """Constant biases [range (m), 0, azimuth (rad), elevation (rad)] for one run."""
    z = rng.standard_normal(3)
    ang = math.radians(sensor.angle_bias_sigma_deg)
    return np.array([z[0] * sensor.range_bias_sigma_m, 0.0, z[1] * ang, z[2] * ang])


def measurement_model(rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h, H): range (m), range-rate (m/s), azimuth atan2(y, x) and elevation atan2(z, √(x²+y²))
    (rad) of the relative state, and their 4×6 Jacobian."""
    x, y, z = float(rel[0]), float(rel[1]), float(rel[2])
    r, v = rel[:3], rel[3:6]
    rng_ = math.sqrt(x * x + y * y + z * z)
    rr = float(r @ v) / rng_
    s2 = x * x + y * y
    s = math.sqrt(s2)
    h = np.array([rng_, rr, math.atan2(y, x), math.atan2(z, s)])
    H = np.zeros((4, 6))
    H[0, :3] = r / rng_
    H[1, :3] = v / rng_ - rr * r / rng_ ** 2
    H[1, 3:] = r / rng_
    H[2, :2] = [-y / s2, x / s2]
    H[3, :3] = [-z * x / (rng_ ** 2 * s), -z * y / (rng_ ** 2 * s), s / rng_ ** 2]
    return h, H


def _white_variance(sensor: RelativeSensor, range_m: float) -> np.ndarray:
    """Variances of the white noise of [ρ, ρ̇, az, el] at ``range_m`` (m)."""
    ang2 = math.radians(sensor.angle_noise_deg) ** 2
    rng2 = sensor.range_noise_m ** 2 + (sensor.range_noise_fraction * range_m) ** 2
    return np.array([rng2, sensor.range_rate_noise_m_s ** 2, ang2, ang2])


def measurement_variance(sensor: RelativeSensor, range_m: float) -> np.ndarray:
    """Diagonal of the filter's R: the white noise plus the (unestimated) biases' variance."""
    ang2 = math.radians(sensor.angle_bias_sigma_deg) ** 2
    return _white_variance(sensor, range_m) + np.array([sensor.range_bias_sigma_m ** 2, 0.0, ang2, ang2])


def measure(rel_true: np.ndarray, sensor: RelativeSensor, biases: np.ndarray,
            rng: np.random.Generator) -> np.ndarray | None:
    """A reading [ρ, ρ̇, az, el] of the true relative state, or None outside the range window."""
    range_m = float(np.linalg.norm(rel_true[:3]))
    if not sensor.min_range_m < range_m <= sensor.max_range_m:
        return None
    h, _ = measurement_model(rel_true)
    return h + biases + rng.standard_normal(4) * np.sqrt(_white_variance(sensor, range_m))


def hcw_second_order_accel(rho: np.ndarray, n: float, target_radius_m: float) -> float:
    """Size (m/s²) of the second-order relative gravity CW neglects at ``rho`` (m):
    |(3n²/r)[−x² + (y² + z²)/2, xy, xz]| (London 1963)."""
    x, y, z = rho
    k = 3.0 * n * n / target_radius_m
    return k * math.sqrt((-x * x + 0.5 * (y * y + z * z)) ** 2 + (x * y) ** 2 + (x * z) ** 2)


def process_noise(dt: float, q: float) -> np.ndarray:
    """6×6 Q of a continuous white acceleration of density q (m²/s³) per axis over ``dt`` s:
    [[dt³/3, dt²/2], [dt²/2, dt]] q (Bar-Shalom et al. 2001 §6.2.2)."""
    qm = np.zeros((6, 6))
    idx = np.arange(3)
    qm[idx, idx] = q * dt ** 3 / 3.0
    qm[idx, idx + 3] = qm[idx + 3, idx] = q * dt ** 2 / 2.0
    qm[idx + 3, idx + 3] = q * dt
    return qm


def ekf_predict(x: np.ndarray, P: np.ndarray, dt: float, n: float, nav: RelativeNavConfig,
                target_radius_m: float, dv: np.ndarray | None = None,
                dv_var: np.ndarray | None = None, dv_at: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Time update over ``dt`` s; the commanded impulse ``dv`` (m/s, Hill axes) of this step acts
    at the fraction ``dv_at`` of it, with variance ``dv_var`` (m²/s², per axis)."""
    phi = cw_matrix(n, dt)
    q = nav.accel_noise_density_m_s2_rthz ** 2
    late = cw_matrix(n, (1.0 - dv_at) * dt)[:, 3:]
    if nav.dynamics == "hcw":
        if nav.hcw_model_error:      # an error persisting ~1/n s: the density giving its size then
            q += hcw_second_order_accel(x[:3], n, target_radius_m) ** 2 / n
        x_new = phi @ x if dv is None else phi @ x + late @ dv
    elif dv is None:
        x_new = nonlinear_circular(x, dt, n, target_radius_m)
    else:
        x_new = nonlinear_circular(x, dv_at * dt, n, target_radius_m)
        x_new[3:] += dv
        x_new = nonlinear_circular(x_new, (1.0 - dv_at) * dt, n, target_radius_m)
    Q = process_noise(dt, q)
    if dv_var is not None:
        Q = Q + late @ np.diag(dv_var) @ late.T
    return x_new, phi @ P @ phi.T + Q


def _innovation(z: np.ndarray, h: np.ndarray) -> np.ndarray:
    res = z - h
    res[2:] = (res[2:] + math.pi) % (2 * math.pi) - math.pi
    return res


def ekf_update(x: np.ndarray, P: np.ndarray, z: np.ndarray, sensor: RelativeSensor,
               iterations: int = 4) -> tuple[np.ndarray, np.ndarray, float]:
    """Iterated EKF measurement update: (x, P, normalised innovation squared of the prior).

    Gauss–Newton relinearisation of h about the running estimate (Bell & Cathey 1993), which
    keeps the filter consistent when the prior's spread is a sizeable fraction of the range;
    covariance in Joseph form at the last linearisation (Brown & Hwang ch. 4)."""
    h0, H = measurement_model(x)
    R = np.diag(measurement_variance(sensor, float(h0[0])))
    res0 = _innovation(z, h0)
    nis = float(res0 @ np.linalg.solve(H @ P @ H.T + R, res0))
    xi, h = x, h0
    for k in range(iterations):
        if k:
            h, H = measurement_model(xi)
        K = np.linalg.solve(H @ P @ H.T + R, H @ P).T
        step = x + K @ (_innovation(z, h) - H @ (x - xi)) - xi
        xi = xi + step
        if math.sqrt(step[:3] @ step[:3]) < 1e-4 * h[0]:     # relinearising would change h by
            break                                             # less than ~1e-8 relative
    return xi, _joseph(P, K, H, R), nis


def _joseph(P: np.ndarray, K: np.ndarray, H: np.ndarray, R: np.ndarray) -> np.ndarray:
    """(I − KH) P (I − KH)ᵀ + K R Kᵀ (Brown & Hwang ch. 4)."""
    ikh = np.eye(P.shape[0]) - K @ H
    return ikh @ P @ ikh.T + K @ R @ K.T


def initial_estimate(rel_true: np.ndarray, nav: RelativeNavConfig,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x̂0, P0): the truth plus an error drawn with the configured 1σ, and that covariance."""
    sig = np.repeat([nav.position_sigma_m, nav.velocity_sigma_m_s], 3)
    return np.asarray(rel_true, float) + rng.standard_normal(6) * sig, np.diag(sig ** 2)


def covariance_along(rel_nominal: np.ndarray, dt: float, n: float, P0: np.ndarray,
                     sensor: RelativeSensor, nav: RelativeNavConfig,
                     target_radius_m: float) -> np.ndarray:
    """Covariance analysis: P after filtering readings every ``dt`` s along the nominal relative
    states ``rel_nominal`` (k, 6) (Jacobians at the nominal; Brown & Hwang ch. 4)."""
    P = P0.copy()
    for k, rel in enumerate(rel_nominal):
        if k:
            _, P = ekf_predict(rel, P, dt, n, nav, target_radius_m)
        range_m = float(np.linalg.norm(rel[:3]))
        if sensor.min_range_m < range_m <= sensor.max_range_m:
            _, H = measurement_model(rel)
            R = np.diag(measurement_variance(sensor, range_m))
            P = _joseph(P, np.linalg.solve(H @ P @ H.T + R, H @ P).T, H, R)
    return P


def lateral_sigma_at_contact(axis: np.ndarray, hold_distance_m: float, hold_s: float, speed_m_s: float,
                             n: float, sensor: RelativeSensor, nav: RelativeNavConfig,
                             target_radius_m: float) -> float:
    """Predicted 1σ (m, the worse lateral axis) of the position estimate at contact after a hold
    at ``hold_distance_m`` along the unit ``axis`` for ``hold_s`` s and a straight approach at
    ``speed_m_s`` — covariance analysis from the initial knowledge, readings at the sensor rate."""
    dt = 1.0 / sensor.rate_hz
    t_hold, t_fin = np.arange(0.0, max(hold_s, dt), dt), np.arange(0.0, hold_distance_m / speed_m_s, dt)
    rel = np.zeros((t_hold.size + t_fin.size, 6))
    rel[:, :3] = axis[None, :] * np.concatenate([np.full(t_hold.size, hold_distance_m),
                                                 hold_distance_m - speed_m_s * t_fin])[:, None]
    rel[t_hold.size:, 3:] = -axis * speed_m_s
    P0 = np.diag(np.repeat([nav.position_sigma_m, nav.velocity_sigma_m_s], 3) ** 2)
    lateral = np.flatnonzero(axis == 0)
    P = covariance_along(rel, dt, n, P0, sensor, nav, target_radius_m)
    return float(np.sqrt(np.max(np.linalg.eigvalsh(P[np.ix_(lateral, lateral)]))))
