"""Translational dynamics of a throttled lunar lander in a landing-site-fixed rotating frame.

The frame (the "site frame") has its origin at the aim point on the reference sphere through the
site (radius ``radius_m``, the Moon's centre at ``(0, 0, -radius_m)``) and East-North-Up axes at
the site, fixed to the Moon (MOON_ME). State ``y = [e, n, u, ve, vn, vu, m]``: position (m),
velocity relative to the rotating ground (m/s) and mass (kg). Equations of motion in the rotating
frame (the transport theorem applied twice; Schaub & Junkins 2018, ch. 2):

    r̈ = g(r) − 2 ω × ṙ − ω × (ω × (r − c)) + (F/m) d̂,      ṁ = −F / (Isp g0)

with c the Moon's centre, ω the lunar angular velocity (site axes), d̂ the actual thrust direction
and F the thrust magnitude (throttle × maximum thrust; 0 with the engine off). Gravity is the point
mass μ or, optionally, a spherical-harmonic field (e.g. GRGM1200A to low degree) evaluated in
MOON_PA through one constant ENU → PA rotation.

Attitude is not simulated as rotational dynamics: the thrust direction is a rate-limited pointing
— at each step it turns toward the commanded direction by at most ``max_slew_rate × dt`` (rotation
in the plane of the two directions) and is then held for the step. Throttle changes are
instantaneous within [min throttle, 1] (or 0: engine off).

Integration: classical fixed-step RK4 (numba) with the thrust held over the step. Contact: the
caller samples its terrain height function under the lander and passes it; a step that ends below
it is redone with the step fraction found by linear interpolation of the altitude, so the contact
time is accurate to O(dt²) of the terminal motion.

Assumptions and limitations
    * ω is taken constant over the descent (the lunar libration changes it by ~1e-5 relative over
      a day; the Euler term ω̇ × r is neglected). Both MOON_ME and MOON_PA are body-fixed, so the
      ENU → PA rotation is constant.
    * No attitude dynamics, engine transients, thrust misalignment, plume or slosh effects.
    * Altitude is measured above the reference sphere along the local radial; the terrain height
      function gives heights above the same sphere as a function of the site-frame Cartesian
      east/north (m) of the point (a tangent-plane map, adequate within tens of km of the site).

References
    Schaub, H. & Junkins, J. L., *Analytical Mechanics of Space Systems* (4th ed., 2018), ch. 2
    (transport theorem; acceleration in a rotating frame: Coriolis and centrifugal terms).
    Press, W. H. et al., *Numerical Recipes* (3rd ed., 2007), eq. 17.1.3 (classical RK4).
    Montenbruck, O. & Gill, E., *Satellite Orbits* (2000), §3.2 (spherical-harmonic gravity, used
    through :mod:`guanghan.environment.gravity_kernels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.environment.gravity_field import GravityField
from guanghan.environment.gravity_kernels import SHData, make_sh_data, sh_acceleration


def _enu_axes(lat_rad: float, lon_rad: float) -> np.ndarray:
    """Rows E, N, U (MOON_ME components) of the local axes at planetocentric lat/lon."""
    sl, cl, so, co = math.sin(lat_rad), math.cos(lat_rad), math.sin(lon_rad), math.cos(lon_rad)
    return np.array([[-so, co, 0.0], [-sl * co, -sl * so, cl], [cl * co, cl * so, sl]])


def lunar_angular_velocity_me(et: float) -> np.ndarray:
    """Angular velocity (rad/s) of MOON_ME w.r.t. J2000, in MOON_ME axes, from SPICE at ``et``.

    From the state transform [[R, 0], [Ṙ, R]] (J2000 → MOON_ME): [ω_J2000]× = −Rᵀ Ṙ, ω_ME = R ω."""
    mat = frames.state_transform("J2000", "MOON_ME", [et])[0]
    rot, drot = mat[:3, :3], mat[3:, :3]
    w = -rot.T @ drot
    return rot @ np.array([w[2, 1], w[0, 2], w[1, 0]])


@dataclass(frozen=True, eq=False)
class SiteFrame:
    """The landing-site-fixed ENU frame and its gravity model (see the module docstring).

    ``me_from_enu`` takes site-axis components to MOON_ME; ``omega`` is the lunar angular velocity
    in site axes (rad/s); ``sh`` carries the optional spherical-harmonic field (``use_field``)."""

    latitude_rad: float
    longitude_rad: float
    radius_m: float
    mu: float
    omega: np.ndarray
    me_from_enu: np.ndarray
    pa_from_enu: np.ndarray
    use_field: bool
    sh: SHData

    @classmethod
    def at_site(cls, latitude_deg: float, longitude_deg: float, et: float,
                radius_m: float | None = None, field: GravityField | None = None) -> "SiteFrame":
        """Frame at the aim point (planetocentric MOON_ME lat/lon, degrees) on a sphere of
        ``radius_m`` (default: the SPICE mean lunar radius); ω from SPICE at ``et``."""
        if not -90.0 <= latitude_deg <= 90.0:
            raise ValueError(f"latitude_deg = {latitude_deg}: must lie in [-90, 90]")
        r_moon = float(spice_kernels.radii("MOON")[0])
        radius = r_moon if radius_m is None else float(radius_m)
        if not 0.9 * r_moon < radius < 1.1 * r_moon:
            raise ValueError(f"radius_m = {radius} m: must be within 10 % of the lunar radius "
                             f"{r_moon:.0f} m")
        lat, lon = math.radians(latitude_deg), math.radians(longitude_deg)
        axes = _enu_axes(lat, lon)
        me_from_enu = axes.T.copy()
        omega = axes @ lunar_angular_velocity_me(et)
        pa_from_me = frames.rotation("MOON_ME", "MOON_PA", [et])[0]
        if field is not None:
            if field.body != "MOON" or field.frame != "MOON_PA":
                raise ValueError(f"field = {field.name} ({field.body}, {field.frame}): need a "
                                 "lunar field in MOON_PA")
            sh, mu = field.kernel_data(), field.mu
        else:
            mu = spice_kernels.gm("MOON")
            sh = make_sh_data(mu, r_moon, np.eye(3), np.zeros((3, 3)), 2, 2)  # unused placeholder
        return cls(lat, lon, radius, float(mu), np.ascontiguousarray(omega), me_from_enu,
                   np.ascontiguousarray(pa_from_me @ me_from_enu), field is not None, sh)

    @property
    def centre(self) -> np.ndarray:
        """The Moon's centre in site coordinates (m)."""
        return np.array([0.0, 0.0, -self.radius_m])

    def altitude(self, p) -> np.ndarray | float:
        """Height (m) above the reference sphere of site-frame position(s) ``p``."""
        if np.ndim(p) == 1:
            x, y, z = float(p[0]), float(p[1]), float(p[2]) + self.radius_m
            return math.sqrt(x * x + y * y + z * z) - self.radius_m
        p = np.asarray(p, dtype=float)
        return np.linalg.norm(p - self.centre, axis=-1) - self.radius_m

    def local_up(self, p) -> np.ndarray:
        """Unit radial (local vertical) at site-frame position(s) ``p``."""
        if np.ndim(p) == 1:
            x, y, z = float(p[0]), float(p[1]), float(p[2]) + self.radius_m
            r = math.sqrt(x * x + y * y + z * z)
            return np.array([x / r, y / r, z / r])
        d = np.asarray(p, dtype=float) - self.centre
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    def surface_gravity(self) -> float:
        """Point-mass gravity (m/s²) on the reference sphere: μ / R²."""
        return self.mu / self.radius_m ** 2

    def apparent_acceleration(self, p, v) -> np.ndarray:
        """Gravity + Coriolis + centrifugal (m/s²) at positions/velocities (n, 3) or (3,)."""
        if np.ndim(p) == 1:
            out1 = np.empty(3)
            _apparent_accel(np.asarray(p, dtype=np.float64), np.asarray(v, dtype=np.float64),
                            self.mu, self.radius_m, self.omega, self.use_field, self.pa_from_enu,
                            self.sh, out1)
            return out1
        p2, v2 = np.atleast_2d(np.asarray(p, float)), np.atleast_2d(np.asarray(v, float))
        out = np.empty_like(p2)
        for i in range(p2.shape[0]):
            _apparent_accel(np.ascontiguousarray(p2[i]), np.ascontiguousarray(v2[i]), self.mu,
                            self.radius_m, self.omega, self.use_field, self.pa_from_enu, self.sh,
                            out[i])
        return out[0] if np.ndim(p) == 1 else out

    def from_state(self, state: SpacecraftState) -> tuple[np.ndarray, np.ndarray]:
        """Site-frame position (m) and ground-relative velocity (m/s) of a Moon-centred state."""
        if state.body != "MOON":
            raise ValueError(f"state.body = {state.body!r}: must be 'MOON'")
        s = state.to_frame("MOON_ME")
        axes = self.me_from_enu.T
        return axes @ s.r + self.centre, axes @ s.v

    def to_state(self, et: float, p, v, mass: float) -> SpacecraftState:
        """The site-frame state (``p``, ``v``) as a MOON_ME :class:`SpacecraftState`."""
        r = self.me_from_enu @ (np.asarray(p, float) - self.centre)
        return SpacecraftState(et, r, self.me_from_enu @ np.asarray(v, float), mass, "MOON_ME")

    def latlon_deg(self, p) -> tuple[float, float]:
        """Planetocentric MOON_ME latitude and longitude (deg) under site-frame position ``p``."""
        r = self.me_from_enu @ (np.asarray(p, float) - self.centre)
        return (math.degrees(math.asin(r[2] / np.linalg.norm(r))),
                math.degrees(math.atan2(r[1], r[0])))

    def point_uprange(self, range_m: float, azimuth_deg: float, altitude_m: float) -> np.ndarray:
        """Site-frame position ``range_m`` (great-circle arc on the sphere, m) from the site along
        azimuth ``azimuth_deg`` (from north, clockwise), at ``altitude_m`` above the sphere."""
        ang, az = range_m / self.radius_m, math.radians(azimuth_deg)
        horiz = np.array([math.sin(az), math.cos(az), 0.0])
        rad = (self.radius_m + altitude_m)
        return rad * (math.sin(ang) * horiz + np.array([0.0, 0.0, math.cos(ang)])) - \
            np.array([0.0, 0.0, self.radius_m])


# --------------------------------------------------------------------------- numba kernels
@njit(cache=True)
def _apparent_accel(p, v, mu, radius, omega, use_field, pa_from_enu, sh, out):
    """g(r) − 2 ω × v − ω × (ω × (r − c)) at site-frame p, v (rotating-frame acceleration)."""
    rx, ry, rz = p[0], p[1], p[2] + radius                  # r − c, c = (0, 0, −R)
    if use_field:
        rb = np.empty(3)
        ab = np.empty(3)
        for i in range(3):
            rb[i] = pa_from_enu[i, 0] * rx + pa_from_enu[i, 1] * ry + pa_from_enu[i, 2] * rz
        sh_acceleration(rb, sh, ab)
        gx = pa_from_enu[0, 0] * ab[0] + pa_from_enu[1, 0] * ab[1] + pa_from_enu[2, 0] * ab[2]
        gy = pa_from_enu[0, 1] * ab[0] + pa_from_enu[1, 1] * ab[1] + pa_from_enu[2, 1] * ab[2]
        gz = pa_from_enu[0, 2] * ab[0] + pa_from_enu[1, 2] * ab[1] + pa_from_enu[2, 2] * ab[2]
    else:
        r2 = rx * rx + ry * ry + rz * rz
        k = -mu / (r2 * math.sqrt(r2))
        gx, gy, gz = k * rx, k * ry, k * rz
    wx, wy, wz = omega[0], omega[1], omega[2]
    cx, cy, cz = wy * v[2] - wz * v[1], wz * v[0] - wx * v[2], wx * v[1] - wy * v[0]    # ω × v
    px, py, pz = wy * rz - wz * ry, wz * rx - wx * rz, wx * ry - wy * rx                # ω × r
    fx, fy, fz = wy * pz - wz * py, wz * px - wx * pz, wx * py - wy * px                # ω×(ω×r)
    out[0] = gx - 2.0 * cx - fx
    out[1] = gy - 2.0 * cy - fy
    out[2] = gz - 2.0 * cz - fz


@njit(cache=True)
def _derivative(y, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, out):
    a = np.empty(3)
    _apparent_accel(y[0:3], y[3:6], mu, radius, omega, use_field, pa_from_enu, sh, a)
    f_m = thrust_n / y[6]
    for i in range(3):
        out[i] = y[3 + i]
        out[3 + i] = a[i] + f_m * d[i]
    out[6] = -mdot


@njit(cache=True)
def rk4_step(y, dt, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, out):
    """One classical RK4 step (Numerical Recipes eq. 17.1.3) of the 7-state into ``out``."""
    k1, k2, k3, k4, tmp = np.empty(7), np.empty(7), np.empty(7), np.empty(7), np.empty(7)
    _derivative(y, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, k1)
    for i in range(7):
        tmp[i] = y[i] + 0.5 * dt * k1[i]
    _derivative(tmp, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, k2)
    for i in range(7):
        tmp[i] = y[i] + 0.5 * dt * k2[i]
    _derivative(tmp, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, k3)
    for i in range(7):
        tmp[i] = y[i] + dt * k3[i]
    _derivative(tmp, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, k4)
    for i in range(7):
        out[i] = y[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@njit(cache=True)
def slew_toward(d, d_cmd, max_angle_rad, out):
    """Turn unit ``d`` toward unit ``d_cmd`` by at most ``max_angle_rad`` (great-circle step)."""
    c = d[0] * d_cmd[0] + d[1] * d_cmd[1] + d[2] * d_cmd[2]
    c = min(1.0, max(-1.0, c))
    ang = math.acos(c)
    if ang <= max_angle_rad:
        out[:] = d_cmd
        return
    perp = d_cmd - c * d                                      # component of d_cmd ⟂ d
    n = math.sqrt(perp[0] ** 2 + perp[1] ** 2 + perp[2] ** 2)
    if n < 1e-12:                                             # antiparallel: any ⟂ axis
        perp = np.array([d[1], -d[0], 0.0]) if abs(d[2]) < 0.9 else np.array([0.0, d[2], -d[1]])
        n = math.sqrt(perp[0] ** 2 + perp[1] ** 2 + perp[2] ** 2)
    ca, sa = math.cos(max_angle_rad), math.sin(max_angle_rad)
    for i in range(3):
        out[i] = ca * d[i] + sa * perp[i] / n


@njit(cache=True)
def step_with_contact(y, dt, thrust_n, d, mdot, ground_m, mu, radius, omega, use_field,
                      pa_from_enu, sh, out):
    """RK4 step; if the altitude ends at or below ``ground_m`` the step is redone to the contact.

    Returns the fraction of ``dt`` flown (1.0 without contact)."""
    rk4_step(y, dt, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh, out)
    h1 = math.sqrt(out[0] ** 2 + out[1] ** 2 + (out[2] + radius) ** 2) - radius
    if h1 > ground_m:
        return 1.0
    h0 = math.sqrt(y[0] ** 2 + y[1] ** 2 + (y[2] + radius) ** 2) - radius
    if h0 <= ground_m:                                        # already in contact
        out[:] = y
        return 0.0
    lo, h_lo, hi, h_hi = 0.0, h0, 1.0, h1
    frac = 1.0
    for _ in range(6):                                        # regula falsi on the step fraction
        frac = lo + (h_lo - ground_m) / max(h_lo - h_hi, 1e-12) * (hi - lo)
        frac = min(hi, max(lo, frac))
        rk4_step(y, frac * dt, thrust_n, d, mdot, mu, radius, omega, use_field, pa_from_enu, sh,
                 out)
        hf = math.sqrt(out[0] ** 2 + out[1] ** 2 + (out[2] + radius) ** 2) - radius
        if abs(hf - ground_m) < 1e-5:
            break
        if hf > ground_m:
            lo, h_lo = frac, hf
        else:
            hi, h_hi = frac, hf
    return frac


class LanderDynamics:
    """Truth dynamics of one lander: state, actual thrust direction and the stepping rules.

    ``max_thrust_n`` and ``isp_s`` define F = throttle × max thrust and ṁ = F / (Isp g0);
    ``max_slew_rate_deg_s`` limits the turn of the thrust direction; ``dry_mass_kg`` stops the
    engine when the propellant is gone (``propellant_exhausted`` becomes True)."""

    def __init__(self, frame: SiteFrame, max_thrust_n: float, isp_s: float,
                 max_slew_rate_deg_s: float, dry_mass_kg: float, y0, d0):
        for name, value in (("max_thrust_n", max_thrust_n), ("isp_s", isp_s),
                            ("max_slew_rate_deg_s", max_slew_rate_deg_s),
                            ("dry_mass_kg", dry_mass_kg)):
            if not value > 0:
                raise ValueError(f"{name} = {value}: must be > 0")
        self.frame = frame
        self.max_thrust_n, self.isp_s = float(max_thrust_n), float(isp_s)
        self.c_m_s = isp_s * STANDARD_GRAVITY
        self.max_slew_rad_s = math.radians(max_slew_rate_deg_s)
        self.dry_mass_kg = float(dry_mass_kg)
        self.y = np.array(y0, dtype=float).reshape(7)
        if self.y[6] <= dry_mass_kg:
            raise ValueError(f"mass {self.y[6]} kg: must exceed dry_mass_kg = {dry_mass_kg} kg")
        d = np.asarray(d0, dtype=float).reshape(3)
        self.d = d / np.linalg.norm(d)
        self._out = np.empty(7)
        self._dnew = np.empty(3)
        self.propellant_exhausted = False
        self.last_thrust_n = 0.0

    def step(self, dt: float, throttle: float, d_cmd, ground_m: float) -> float:
        """Advance ``dt`` s with ``throttle`` (0 = off, else in (0, 1]) toward direction ``d_cmd``;
        returns the fraction of dt flown (< 1 on ground contact)."""
        f = self.frame
        slew_toward(self.d, np.asarray(d_cmd, dtype=float), self.max_slew_rad_s * dt, self._dnew)
        self.d[:] = self._dnew / math.sqrt(self._dnew @ self._dnew)
        thrust = 0.0 if self.propellant_exhausted else throttle * self.max_thrust_n
        mdot = thrust / self.c_m_s
        if thrust > 0.0 and self.y[6] - mdot * dt < self.dry_mass_kg:   # burn to depletion only
            thrust, mdot = 0.0, 0.0
            self.propellant_exhausted = True
        frac = step_with_contact(self.y, dt, thrust, self.d, mdot, ground_m, f.mu, f.radius_m,
                                 f.omega, f.use_field, f.pa_from_enu, f.sh, self._out)
        self.y[:] = self._out
        self.last_thrust_n = thrust
        return frac
