"""Powered explicit guidance of a lunar ascent to orbit insertion (linear-tangent steering, PEG).

The ascent target is an insertion radius, inertial speed and flight-path angle in a target plane
(given directly, or from the periapsis/apoapsis altitudes of the insertion orbit); the downrange
position of the insertion point is free. The guidance is Unified Powered Flight Guidance (UPFG,
the Space Shuttle's Powered Explicit Guidance) in its standard mode for one constant-thrust burn:

* steering is the linear-tangent law i_F(t) = unit(λ + λ̇ (t − t_λ)), the optimal law in a uniform
  field (Jaggers 1977), λ along the velocity-to-go v_go, t_λ at the thrust centroid;
* time-to-go comes from the rocket equation and |v_go|; the thrust integrals L, J, S, Q, P, H give
  λ̇ from the position-to-go r_go, whose downrange part is left free;
* gravity's velocity and position integrals over the remaining burn come from a conic (Kepler)
  extrapolation of a thrust-corrected state; the predicted cut-off point, projected into the
  target plane, places the desired state and so a new v_go, iterated once per guidance cycle;
* the out-of-plane (yaw) steering for a plane change within the ascent is in the same law: r_go
  and v_go carry the out-of-plane components, and λ̇ turns the thrust across the plane;
* within ``terminal_time_s`` of cut-off the steering is frozen and v_go only counts down by the
  sensed velocity gain; the engine is cut off when v_go along the thrust reaches zero.

All vectors are in one inertial frame chosen by the caller (m, m/s); time in s.

Assumptions and limitations
    * One stage at constant thrust and exhaust velocity (no throttling, no coast); with
      ``isp_s=None`` the thrust acceleration is constant instead (the closed-form test case).
    * Point-mass (or uniform) gravity inside the guidance; the truth may differ (GRAIL field).
    * The sensed velocity gain is taken as the velocity change minus the mean gravity of the model
      over the cycle (the navigation state is trusted; no accelerometer channel of its own).
    * The terrain check uses the great circle of the target plane in MOON_ME at lift-off (the
      Moon turns ~0.55° per hour under the plane, ignored) and the caller's height function.
    * Large steering turns (lift-off, big plane changes) stretch the second-order expansions of
      the thrust integrals; the per-cycle re-solution absorbs it (see the tests' flat-field check).

References
    Brand, T. J., Brown, D. W. & Higgins, J. P. (1973), "Space Shuttle GN&C Equation Document
    No. 24: Unified Powered Flight Guidance", C. S. Draper Laboratory (NASA NTRS 19740004402):
    blocks 3–8 (time-to-go, thrust integrals, turning rate, conic gravity, velocity-to-go).
    Jaggers, R. F. (1977), "An explicit solution to the exoatmospheric powered flight guidance and
    trajectory optimization problem for rocket propelled vehicles", AIAA 77-1051.
    McHenry, R. L., Brand, T. J., Long, A. D., Cockrell, B. F. & Thibodeau, J. R. (1979), "Space
    Shuttle ascent guidance, navigation, and control", J. Astronaut. Sci. 27(1), 1–38.
    Bryson, A. E. & Ho, Y.-C. (1975), *Applied Optimal Control*, §2.7 (linear-tangent law is
    optimal in a uniform field).
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (3rd ed.), ch. 2 (vis-viva,
    angular momentum, flight-path angle), Algorithm 3.4 (universal-variable Kepler solution).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.kepler import kepler_universal
from guanghan.dynamics.vector3 import cross, unit
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.errors import GuidanceFailure, InputError


class AscentTarget(ConfigModel):
    """Insertion target: apsides (with an optional insertion altitude) or insertion altitude,
    speed and flight-path angle; plane by unit normal (J2000 or MOON_ME axes at lift-off) or, if
    no normal is given, by the launch azimuth at the site."""

    periapsis_altitude_km: float | None = Field(default=None, ge=0, le=20_000, description=(
        "periapsis altitude above the 1737.4 km sphere (km)"))
    apoapsis_altitude_km: float | None = Field(default=None, ge=0, le=60_000, description=(
        "apoapsis altitude (km); with periapsis_altitude_km"))
    insertion_altitude_km: float | None = Field(default=None, ge=0, le=20_000, description=(
        "cut-off altitude (km): between the apsides (default: the periapsis), or with speed and "
        "flight-path angle"))
    insertion_speed_m_s: float | None = Field(default=None, gt=0, le=5_000, description=(
        "inertial speed at cut-off (m/s)"))
    flight_path_angle_deg: float = Field(default=0.0, ge=-30, le=30, description=(
        "flight-path angle at cut-off (deg), with insertion_speed_m_s"))
    plane_normal: tuple[float, float, float] | None = Field(default=None, description=(
        "orbit normal (direction of the angular momentum), any length > 0"))
    plane_axes: Literal["J2000", "MOON_ME"] = "J2000"
    launch_azimuth_deg: float = Field(default=90.0, ge=-360, le=360, description=(
        "heading (deg from north) of the plane through the site when plane_normal is None"))

    @model_validator(mode="after")
    def _one_mode(self):
        apsides = self.periapsis_altitude_km is not None or self.apoapsis_altitude_km is not None
        if apsides:
            if self.periapsis_altitude_km is None or self.apoapsis_altitude_km is None:
                fail("give both periapsis_altitude_km and apoapsis_altitude_km",
                     "apoapsis_altitude_km")
            if self.apoapsis_altitude_km < self.periapsis_altitude_km:
                fail(f"must be ≥ periapsis_altitude_km = {self.periapsis_altitude_km}",
                     "apoapsis_altitude_km", self.apoapsis_altitude_km)
            if self.insertion_speed_m_s is not None:
                fail("give the apsides or the insertion speed, not both", "insertion_speed_m_s")
            h = self.insertion_altitude_km
            if h is not None and not self.periapsis_altitude_km <= h <= self.apoapsis_altitude_km:
                fail("must lie between the periapsis and apoapsis altitudes",
                     "insertion_altitude_km", h)
        elif self.insertion_speed_m_s is None or self.insertion_altitude_km is None:
            fail("give periapsis/apoapsis altitudes, or insertion altitude and speed",
                 "insertion_speed_m_s")
        if self.plane_normal is not None and not np.linalg.norm(self.plane_normal) > 0:
            fail("must be a non-zero vector", "plane_normal", self.plane_normal)
        return self

    def insertion(self, mu: float, radius_m: float) -> tuple[float, float, float]:
        """(radius (m), inertial speed (m/s), flight-path angle (rad)) at cut-off."""
        if self.insertion_speed_m_s is not None:
            return (radius_m + 1e3 * self.insertion_altitude_km, self.insertion_speed_m_s,
                    math.radians(self.flight_path_angle_deg))
        rp = radius_m + 1e3 * self.periapsis_altitude_km
        ra = radius_m + 1e3 * self.apoapsis_altitude_km
        h_ins = self.insertion_altitude_km
        r = rp if h_ins is None else radius_m + 1e3 * h_ins
        a = 0.5 * (rp + ra)
        v = math.sqrt(mu * (2.0 / r - 1.0 / a))                  # vis-viva (Curtis ch. 2)
        h = math.sqrt(2.0 * mu * rp * ra / (rp + ra))            # h = √(μ a (1 − e²)), ch. 2
        return r, v, math.acos(min(1.0, h / (r * v)))            # cos γ = h / (r v), rising

    def apsides_m(self, mu: float, radius_m: float) -> tuple[float, float]:
        """(periapsis, apoapsis) radii (m) of the target orbit (apoapsis inf if unbound)."""
        if self.periapsis_altitude_km is not None:
            return radius_m + 1e3 * self.periapsis_altitude_km, \
                radius_m + 1e3 * self.apoapsis_altitude_km
        r, v, gam = self.insertion(mu, radius_m)
        energy = 0.5 * v * v - mu / r
        h = r * v * math.cos(gam)
        e = math.sqrt(max(0.0, 1.0 + 2.0 * energy * h * h / (mu * mu)))
        p = h * h / mu
        return p / (1.0 + e), (p / (1.0 - e) if e < 1.0 else math.inf)


# --------------------------------------------------------------------------- gravity and targets
@dataclass(frozen=True)
class CentralGravity:
    """Point-mass gravity of parameter ``mu`` (m³/s²) about the frame origin."""

    mu: float

    def accel(self, r) -> np.ndarray:
        r = np.asarray(r, float)
        return -self.mu * r / float(r @ r) ** 1.5

    def coast(self, r, v, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Conic (two-body) state after ``dt`` (s): Curtis Alg. 3.4 (universal variable)."""
        return kepler_universal(np.asarray(r, float), np.asarray(v, float), float(dt), self.mu)


@dataclass(frozen=True)
class UniformGravity:
    """A uniform field ``g`` (m/s², vector): the flat-Moon case of the closed-form check."""

    g: np.ndarray

    def accel(self, r) -> np.ndarray:
        return np.asarray(self.g, float)

    def coast(self, r, v, dt: float) -> tuple[np.ndarray, np.ndarray]:
        g = np.asarray(self.g, float)
        return np.asarray(r, float) + np.asarray(v, float) * dt + 0.5 * g * dt * dt, \
            np.asarray(v, float) + g * dt


@dataclass(frozen=True)
class SphericalInsertion:
    """Cut-off at radius ``radius_m`` (m), speed ``speed_m_s`` (m/s) and flight-path angle
    ``gamma_rad`` in the plane of unit angular-momentum direction ``normal``; downrange free."""

    radius_m: float
    speed_m_s: float
    gamma_rad: float
    normal: np.ndarray

    def desired(self, r_pred) -> tuple[np.ndarray, np.ndarray]:
        """Desired cut-off position and velocity below the predicted cut-off point ``r_pred``
        projected into the plane (Brand et al. 1973, block 8)."""
        n = unit(self.normal)
        ix = unit(r_pred - (r_pred @ n) * n)
        iz = cross(n, ix)                                      # downrange, prograde
        return self.radius_m * ix, self.speed_m_s * (math.sin(self.gamma_rad) * ix +
                                                     math.cos(self.gamma_rad) * iz)

    def downrange(self, r_d) -> np.ndarray:
        return unit(cross(self.normal, r_d))

    def first_guess(self, r, t_go: float) -> np.ndarray:
        """Cut-off position guess: half the burn's arc ahead of ``r`` in the plane."""
        n = unit(self.normal)
        ix = unit(r - (r @ n) * n)
        ang = 0.5 * self.speed_m_s * t_go / self.radius_m
        return self.radius_m * (math.cos(ang) * ix + math.sin(ang) * cross(n, ix))


@dataclass(frozen=True)
class FlatInsertion:
    """Flat-Moon cut-off at ``height_m`` along ``up`` with horizontal speed and flight-path angle
    in the vertical plane of normal ``normal`` (⟂ up)."""

    height_m: float
    speed_m_s: float
    gamma_rad: float
    normal: np.ndarray
    up: np.ndarray

    def desired(self, r_pred) -> tuple[np.ndarray, np.ndarray]:
        n, up = unit(self.normal), unit(self.up)
        rd = r_pred - (r_pred @ n) * n
        rd = rd + (self.height_m - rd @ up) * up
        iz = np.cross(n, up)
        return rd, self.speed_m_s * (math.sin(self.gamma_rad) * up +
                                     math.cos(self.gamma_rad) * iz)

    def downrange(self, r_d) -> np.ndarray:
        return unit(np.cross(self.normal, self.up))

    def first_guess(self, r, t_go: float) -> np.ndarray:
        return self.desired(np.asarray(r, float) + 0.5 * self.speed_m_s * t_go *
                            self.downrange(r))[0]


# --------------------------------------------------------------------------- thrust integrals
def time_to_go(v_go: float, accel: float, ve: float | None) -> float:
    """Burn time (s) to gain ``v_go`` (m/s) from thrust acceleration ``accel`` (m/s²) and exhaust
    velocity ``ve`` (m/s; None: constant acceleration): t = τ (1 − e^(−v_go/ve)), τ = ve/a
    (Brand et al. 1973, block 3; the rocket equation)."""
    if ve is None:
        return v_go / accel
    return ve / accel * -math.expm1(-v_go / ve)


def thrust_integrals(accel: float, ve: float | None, t_go: float) -> tuple[float, ...]:
    """(L, J, S, Q, P, H) over the burn of ``t_go`` (s): L = ∫a, J = ∫a t, S = ∫a (T−t),
    Q = ∫a t (T−t), P = ∫a t² (T−t), H = ∫a t² (Brand et al. 1973, block 4)."""
    T = t_go
    if ve is None:                                              # constant acceleration
        return accel * T, accel * T * T / 2, accel * T * T / 2, accel * T ** 3 / 6, \
            accel * T ** 4 / 12, accel * T ** 3 / 3
    tau = ve / accel
    L = -ve * math.log1p(-T / tau)
    J = tau * L - ve * T
    S = -J + T * L
    Q = S * tau - 0.5 * ve * T * T
    P = Q * tau - 0.5 * ve * T * T * (T / 3.0)
    return L, J, S, Q, P, J * T - Q


@dataclass(frozen=True)
class SteeringCommand:
    """One guidance output on the caller's clock (s): state time, the law's λ (unit) and λ̇
    (1/s) about t_λ, cut-off time, time-to-go (s), |v_go| (m/s); ``terminal`` once frozen."""

    t_state_s: float
    lam: np.ndarray
    lam_dot: np.ndarray
    t_lambda_s: float
    t_cutoff_s: float
    t_go_s: float
    v_go_m_s: float
    terminal: bool

    def direction(self, t: float) -> np.ndarray:
        """Thrust direction at ``t`` (s): unit(λ + λ̇ (t − t_λ)), the linear-tangent law
        (Jaggers 1977; Brand et al. 1973, block 5), optimal in a uniform field."""
        return unit(self.lam + self.lam_dot * (t - self.t_lambda_s))


class PoweredExplicitGuidance:
    """UPFG for one constant-thrust burn (module docstring). ``target`` is a
    :class:`SphericalInsertion` or :class:`FlatInsertion`, ``gravity`` a :class:`CentralGravity`
    or :class:`UniformGravity`; thrust (N) and Isp (s; None: constant acceleration thrust/mass)."""

    def __init__(self, target, gravity, thrust_n: float, isp_s: float | None,
                 terminal_time_s: float = 4.0):
        if not thrust_n > 0:
            raise InputError("must be > 0", quantity="thrust_n", value=thrust_n, limit=0.0)
        self.target, self.gravity, self.thrust_n = target, gravity, float(thrust_n)
        self.ve = None if isp_s is None else isp_s * STANDARD_GRAVITY
        self.terminal_time_s = float(terminal_time_s)
        self.iterations = 0

    def start(self, t: float, r, v, mass_kg: float, max_iterations: int = 60) -> SteeringCommand:
        """Converge the guidance on a fixed state (pre-launch), from first guesses of the cut-off
        point and gravity integral (Brand et al. 1973, initialisation)."""
        r, v = np.asarray(r, float), np.asarray(v, float)
        a = self.thrust_n / mass_kg
        self.rd = self.target.first_guess(r, 300.0)
        _, vd = self.target.desired(self.rd)
        self.v_go = vd - v
        self.t_go = time_to_go(float(np.linalg.norm(self.v_go)), a, self.ve)
        self.rd = self.target.first_guess(r, self.t_go)
        self.r_grav = 0.5 * self.gravity.accel(r) * self.t_go ** 2
        self.r_bias, self._frozen = np.zeros(3), False
        self._remember(t, r, v)
        for k in range(max_iterations):
            old = self.t_go
            cmd = self._cycle(t, r, v, mass_kg)
            if k >= 4 and abs(self.t_go - old) < 1e-3:
                return cmd
        raise GuidanceFailure("ascent", f"pre-launch guidance did not converge in "
                                        f"{max_iterations} iterations (t_go {self.t_go:.1f} s)")

    def update(self, t: float, r, v, mass_kg: float) -> SteeringCommand:
        """One guidance cycle on the state (``r``, ``v``) at ``t`` (s) and mass (kg)."""
        if not hasattr(self, "command"):
            raise GuidanceFailure("ascent", "update() before start(): converge on the pad first")
        r, v = np.asarray(r, float), np.asarray(v, float)
        dt = t - self.t_last
        g_mean = 0.5 * (self.gravity.accel(r) + self.gravity.accel(self._r))
        self.v_go = self.v_go - (v - self._v - g_mean * dt)       # sensed Δv (block 2)
        if self.t_go - dt > self.terminal_time_s and not self._frozen:
            return self._cycle(t, r, v, mass_kg)
        self._frozen = True                                       # terminal count-down
        self._remember(t, r, v)
        i_f = self.command.direction(t)
        v_along = max(float(self.v_go @ i_f), 0.0)
        self.t_go = time_to_go(v_along, self.thrust_n / mass_kg, self.ve)
        c = self.command
        self.command = SteeringCommand(t, c.lam, c.lam_dot, c.t_lambda_s, t + self.t_go,
                                       self.t_go, v_along, True)
        return self.command

    def _remember(self, t, r, v) -> None:
        self.t_last, self._r, self._v = float(t), r.copy(), v.copy()

    def due(self, t: float, margin_s: float) -> bool:
        """True when the predicted cut-off is within ``terminal_time_s + margin_s`` of ``t``."""
        return self.t_go - (t - self.t_last) <= self.terminal_time_s + margin_s

    def _cycle(self, t, r, v, mass_kg) -> SteeringCommand:
        a, ve, tgt = self.thrust_n / mass_kg, self.ve, self.target
        t_go_prev = self.t_go
        t_go = time_to_go(float(np.linalg.norm(self.v_go)), a, ve)          # block 3
        if not (math.isfinite(t_go) and t_go > 0):
            raise GuidanceFailure("ascent", f"time-to-go {t_go} s from |v_go| "
                                            f"{np.linalg.norm(self.v_go):.1f} m/s")
        L, J, S, Q, P, H = thrust_integrals(a, ve, t_go)                    # block 4
        lam = unit(self.v_go)                                               # block 5
        self.r_grav = (t_go / t_go_prev) ** 2 * self.r_grav
        r_go = self.rd - (r + v * t_go + self.r_grav)
        iz = tgt.downrange(self.rd)
        r_go_xy = r_go - (iz @ r_go) * iz
        r_go = r_go_xy + (S - lam @ r_go_xy) / (lam @ iz) * iz + self.r_bias  # downrange free
        denom = Q - S * J / L
        lam_dot = (r_go - S * lam) / denom                                   # turning rate
        i_f = unit(lam - lam_dot * J / L)
        phi = math.acos(min(1.0, max(-1.0, float(i_f @ lam))))
        phi_dot = -phi * L / J
        u = unit(lam_dot)
        v_thrust = (L - 0.5 * L * phi ** 2 - J * phi * phi_dot - 0.5 * H * phi_dot ** 2) * lam \
            - (L * phi + J * phi_dot) * u
        r_thrust = (S - 0.5 * S * phi ** 2 - Q * phi * phi_dot - 0.5 * P * phi_dot ** 2) * lam \
            - (S * phi + Q * phi_dot) * u
        v_bias, self.r_bias = self.v_go - v_thrust, r_go - r_thrust
        rc1 = r - 0.1 * r_thrust - v_thrust * t_go / 30.0                   # block 7: gravity
        vc1 = v + 1.2 * r_thrust / t_go - 0.1 * v_thrust
        rc2, vc2 = self.gravity.coast(rc1, vc1, t_go)
        v_grav, self.r_grav = vc2 - vc1, rc2 - rc1 - vc1 * t_go
        r_p = r + v * t_go + self.r_grav + r_thrust                          # block 8
        self.rd, vd = tgt.desired(r_p)
        self.v_go = vd - v - v_grav + v_bias
        self.t_go = t_go
        if not np.all(np.isfinite(self.v_go)):
            raise GuidanceFailure("ascent", "velocity-to-go became non-finite")
        self._remember(t, r, v)
        self.iterations += 1
        self.command = SteeringCommand(float(t), lam, lam_dot, float(t) + J / L, float(t) + t_go,
                                       t_go, float(np.linalg.norm(self.v_go)), False)
        return self.command


# --------------------------------------------------------------------------- input checks
def highest_terrain_on_plane_m(normal_me, terrain_height_m: Callable,
                               samples: int = 1440) -> float:
    """Highest terrain (m above the sphere) under the great circle of the plane with MOON_ME
    normal ``normal_me``, sampled every 360/``samples`` deg; ``terrain_height_m(lat, lon)``."""
    n = unit(normal_me)
    e1 = unit(np.cross(n, [0.0, 0.0, 1.0]) if abs(n[2]) < 0.99 else np.cross(n, [1.0, 0, 0]))
    e2 = np.cross(n, e1)
    th = np.linspace(0.0, 2 * math.pi, samples, endpoint=False)
    pts = np.outer(np.cos(th), e1) + np.outer(np.sin(th), e2)
    lat = np.degrees(np.arcsin(np.clip(pts[:, 2], -1, 1)))
    lon = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    return float(np.max(terrain_height_m(lat, lon)))


def check_ascent_inputs(mass_kg: float, thrust_n: float, surface_gravity_m_s2: float,
                        periapsis_altitude_m: float, highest_terrain_m: float) -> None:
    """Refuse thrust-to-weight < 1 in lunar gravity and a target periapsis below the highest
    terrain on the target plane's ground track (:class:`InputError` naming the numbers)."""
    weight = mass_kg * surface_gravity_m_s2
    if thrust_n < weight:
        raise InputError(f"thrust-to-weight {thrust_n / weight:.3f} in lunar gravity "
                         f"({mass_kg:.1f} kg × {surface_gravity_m_s2:.4f} m/s² = {weight:.1f} N): "
                         "cannot lift off; raise the thrust or lower the mass",
                         quantity="engine.thrust_n", value=thrust_n, limit=weight)
    if periapsis_altitude_m <= highest_terrain_m:
        raise InputError(f"target periapsis {periapsis_altitude_m / 1e3:.2f} km is below the "
                         f"highest terrain on the ground track, {highest_terrain_m / 1e3:.2f} km "
                         "above the sphere: raise the periapsis",
                         quantity="periapsis_altitude_km", value=periapsis_altitude_m / 1e3,
                         limit=highest_terrain_m / 1e3)
