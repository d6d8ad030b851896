"""Closed-loop lunar ascent from the surface to orbit insertion: on-board, or ground in the loop.

Truth: :class:`~guanghan.dynamics.powered_descent_dynamics.LanderDynamics` in a ``SiteFrame`` at
the lift-off site (Moon-fixed ENU; point mass or a GRAIL field to low degree), full thrust from
lift-off to cut-off, rate-limited thrust direction. Sequence: vertical rise (``vertical_rise_s``
or up to ``vertical_rise_height_m``) → pitch-over (the thrust turns at the slew limit onto the
guidance direction) → powered explicit guidance (:mod:`guanghan.gnc.ascent_guidance`) → cut-off
when the velocity-to-go reaches zero → insertion.

Navigation: IMU dead reckoning in the site frame from the known surface state, point-mass gravity,
**no external aiding**. Accelerometer model (Groves 2013, ch. 4): f̃ = (1 + s) ∘ (f + θ × f) + b
+ w, with bias b, scale factor s and small-angle misalignment θ drawn once per axis from the
passed ``numpy.random.Generator``, and white noise w of density q. Guidance axes: the site ENU
axes frozen at lift-off, origin at the Moon's centre: r = R(t)(p − c), v = R(t)(v_rel + ω × (p −
c)), R(t) the turn by |ω| t about ω (Schaub & Junkins 2018, ch. 2, transport theorem).

Ground in the loop (``ground_delay_s`` > 0): the same guidance runs on telemetry — the true state
(``telemetry="tracking"``: idealised, noise-free ground tracking) or the downlinked navigation
state (``"navigation"``) — and each command (linear-tangent law and cut-off time) acts
``ground_delay_s`` after the state it came from. The pre-launch solution, from the state on the
pad, is active from lift-off in both loops; all else (truth, dispersions, seeds, steps) is equal.

Assumptions and limitations
    * Guidance mass is the nominal m0 − ṁ_nom t (no gauging): the thrust and Isp dispersions
      (``thrust_factor``, ``isp_factor``) act on the truth only.
    * Steps are shortened to end when a delayed command becomes active and at cut-off, so both
      happen on time; guidance cycles run at the first step boundary of each period.
    * No attitude dynamics, engine transients, tail-off or plume; accelerometer errors in site
      axes (attitude known), no gyro drift. Osculating insertion elements.

References
    Groves, P. D., *Principles of GNSS, Inertial, and Multisensor Integrated Navigation Systems*
    (2nd ed., 2013), ch. 4 (accelerometer bias, scale-factor, misalignment and noise model).
    Schaub, H. & Junkins, J. L., *Analytical Mechanics of Space Systems* (4th ed., 2018), ch. 2.
    Bennett, F. V. (1972), "Apollo Experience Report — Mission Planning for Lunar Module Descent
    and Ascent", NASA TN D-6846 (vertical rise ~10 s, then pitch-over and guided insertion).
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (3rd ed.), eq. 11.30 (Δv from the
    masses, :func:`guanghan.dynamics.propulsion.delta_v_from_masses`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Literal

import numpy as np

from guanghan import run_limits
from guanghan.dynamics.kepler import state_to_elements
from guanghan.dynamics.powered_descent_dynamics import (
    LanderDynamics,
    SiteFrame,
    rk4_step,
)
from guanghan.dynamics.propulsion import delta_v_from_masses
from guanghan.dynamics.vector3 import AxisRotation, cross
from guanghan.environment import frames, lunar_dem
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.gravity_field import GravityField
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc.ascent_guidance import (
    AscentTarget,
    CentralGravity,
    PoweredExplicitGuidance,
    SphericalInsertion,
    check_ascent_inputs,
    highest_terrain_on_plane_m,
)
from guanghan.gnc.ascent_config import AscentImu, AscentProfile, AscentResult, AscentVehicle

__all__ = ["fly_ascent"]


class _DeadReckoning:
    """IMU dead reckoning in the site frame (module docstring); all draws from ``rng``."""

    def __init__(self, frame: SiteFrame, imu: AscentImu, p0, v0, rng: np.random.Generator):
        acc = imu.accelerometer
        self.frame, self.rng, self.q = frame, rng, acc.noise_density_m_s2_rthz
        self.bias, self.scale, self.misalignment, dp = (
            rng.normal(0.0, 1.0, 3) * sig for sig in (acc.bias_sigma_m_s2, acc.scale_factor_sigma,
                                                      imu.misalignment_sigma_rad,
                                                      imu.site_position_sigma_m))
        p0 = np.asarray(p0, float) + dp
        self.y, self._out = np.concatenate([p0, v0, [1.0]]), np.empty(7)

    def measure(self, f, dt: float) -> np.ndarray:
        """Accelerometer output (m/s²) for the true mean specific force ``f`` over ``dt`` (s):
        (1 + s) ∘ (f + θ × f) + b + w (Groves 2013, ch. 4, small-angle misalignment)."""
        noise = self.rng.normal(0.0, 1.0, 3) * (self.q / math.sqrt(dt)) if self.q > 0 else 0.0
        return (1.0 + self.scale) * (f + cross(self.misalignment, f)) + self.bias + noise

    def propagate(self, f_meas, dt: float) -> None:
        fr, fn = self.frame, float(np.linalg.norm(f_meas))
        d = f_meas / fn if fn > 0 else np.array([0.0, 0.0, 1.0])
        rk4_step(self.y, dt, fn, d, 0.0, fr.mu, fr.radius_m, fr.omega, False, fr.pa_from_enu,
                 fr.sh, self._out)
        self.y[0:6] = self._out[0:6]


def _target_normal_enu(target: AscentTarget, frame: SiteFrame, et: float) -> np.ndarray:
    """Unit target-plane normal in the guidance (site ENU at lift-off) axes."""
    if target.plane_normal is None:
        az = math.radians(target.launch_azimuth_deg)
        return np.array([-math.cos(az), math.sin(az), 0.0])     # up × heading
    n = np.asarray(target.plane_normal, float)
    if target.plane_axes == "J2000":
        n = frames.rotation("J2000", "MOON_ME", [et])[0] @ n
    n = frame.me_from_enu.T @ n
    return n / np.linalg.norm(n)


_CEILING_RADIUS_M = 4.0e5          # the terrain ceiling's disc around the site (m)
_CEILING_MARGIN_M = 500.0          # margin (m) over the DEM's highest point before lookups stop


class _Ascent:
    """State of one closed-loop ascent (see :func:`fly_ascent`)."""

    def __init__(self, lat, lon, et, vehicle, target, profile, imu, rng, delay, telemetry,
                 thrust_factor, isp_factor, field_, terrain):
        self.et0, self.vehicle, self.profile, self.terrain = et, vehicle, profile, terrain
        self.delay, self.telemetry = float(delay), telemetry
        self.h_site = float(terrain(lat, lon))
        self.frame = SiteFrame.at_site(lat, lon, et, MOON_MEAN_RADIUS, field_)
        self.nav_frame = self.frame if field_ is None else SiteFrame.at_site(
            lat, lon, et, MOON_MEAN_RADIUS)
        mu, R, m0, eng = self.nav_frame.mu, MOON_MEAN_RADIUS, vehicle.wet_mass_kg, vehicle.engine
        self.normal = _target_normal_enu(target, self.frame, et)
        self.normal_me = self.frame.me_from_enu @ self.normal
        self.r_d, self.v_d, self.gamma = r_d, v_d, gam = target.insertion(mu, R)
        check_ascent_inputs(m0, eng.total_thrust_n, mu / (R + self.h_site) ** 2,
                            target.apsides_m(mu, R)[0] - R,
                            highest_terrain_on_plane_m(self.normal_me, terrain))
        self.guid = PoweredExplicitGuidance(SphericalInsertion(r_d, v_d, gam, self.normal),
                                            CentralGravity(mu), eng.total_thrust_n, eng.isp_s,
                                            profile.terminal_time_s)
        self.mdot_nominal = eng.mass_flow_kg_s
        self.isp_true = eng.isp_s * isp_factor
        p0, v0 = np.array([0.0, 0.0, self.h_site]), np.zeros(3)
        self.dyn = LanderDynamics(self.frame, eng.total_thrust_n * thrust_factor, self.isp_true,
                                  vehicle.max_slew_rate_deg_s, vehicle.dry_mass_kg,
                                  np.concatenate([p0, v0, [m0]]), np.array([0.0, 0.0, 1.0]))
        self.nav = _DeadReckoning(self.nav_frame, imu, p0, v0, rng)
        self.t, self.phase, self.events, self.rows, self.phases = 0.0, "vertical_rise", [], [], []
        self.failure, self.cut = None, False
        self.spin = AxisRotation(self.frame.omega)
        # Terrain ceilings (m) above which no height lookup is needed: the highest DEM point within
        # _CEILING_RADIUS_M of the site (inside it), the global one (outside); a custom map: none.
        self.terrain_top = self.local_top = math.inf
        self.cos_local = 2.0
        if terrain is lunar_dem.height_m:
            self.terrain_top = float(lunar_dem.heights_m().max()) + _CEILING_MARGIN_M
            self.local_top = lunar_dem.highest_within_m(
                round(float(lat), 6), round(float(lon), 6), _CEILING_RADIUS_M) + _CEILING_MARGIN_M
            self.cos_local = math.cos((_CEILING_RADIUS_M - 2 * lunar_dem.PIXEL_NS_M) / MOON_MEAN_RADIUS)

    def event(self, name: str, **details) -> None:
        self.events.append({"name": name, "t_s": round(self.t, 6), "et": self.et0 + self.t,
                            "phase": self.phase, **details})

    def inertial(self, t, p, v) -> tuple[np.ndarray, np.ndarray]:
        rel = p - self.frame.centre
        rot = self.spin.matrix(t)     # site axes at t → inertial (lift-off) axes
        return rot @ rel, rot @ (v + cross(self.frame.omega, rel))

    def source(self, t) -> tuple[np.ndarray, np.ndarray, float]:
        """The guidance input at ``t``: navigation (on-board, or downlinked) or true state."""
        y = self.dyn.y if self.delay > 0 and self.telemetry == "tracking" else self.nav.y
        r, v = self.inertial(t, y[0:3].copy(), y[3:6].copy())
        return r, v, self.vehicle.wet_mass_kg - self.mdot_nominal * t

    def ground_under(self, p) -> float:
        R = self.frame.radius_m
        x, y, z = float(p[0]), float(p[1]), float(p[2]) + R
        r = math.sqrt(x * x + y * y + z * z)
        top = self.local_top if z > self.cos_local * r else self.terrain_top
        if r - R > top:
            return -1e9                                       # above every summit: no lookup
        lat, lon = self.frame.latlon_deg(p)
        return float(self.terrain(lat, lon))

    def run(self) -> None:
        prof, dyn = self.profile, self.dyn
        c_true = self.isp_true * STANDARD_GRAVITY
        pending = [(0.0, self.guid.start(0.0, *self.source(0.0)))]   # pre-launch: on the pad
        active, next_cycle = None, prof.guidance_period_s
        self.event("liftoff", mass_kg=float(dyn.y[6]), t_go_s=pending[0][1].t_go_s,
                   thrust_to_weight=dyn.max_thrust_n / (dyn.y[6] * self.frame.surface_gravity()))
        while self.failure is None and not self.cut:
            if self.t >= next_cycle - 1e-9 or self.guid.due(self.t, prof.guidance_period_s):
                next_cycle += prof.guidance_period_s
                try:
                    pending.append((self.t + self.delay, self.guid.update(self.t,
                                                                          *self.source(self.t))))
                except GuidanceFailure as exc:
                    self.failure = f"guidance failure: {exc.reason}"
                    self.event("guidance_failure", reason=exc.reason)
                    break
            while pending and pending[0][0] <= self.t + 1e-6:
                active = pending.pop(0)[1]
                if active.terminal and not any(e["name"] == "terminal_guidance"
                                               for e in self.events):
                    self.event("terminal_guidance", t_go_s=active.t_go_s)
            d_cmd, h = self.steer(active)
            if pending and pending[0][0] > self.t + 1e-6:          # next command: on time
                h = min(h, pending[0][0] - self.t)
            if h <= 0.0:                                          # cut-off now
                self.judge(1.0, active)
                continue
            m_before = float(dyn.y[6])
            run_limits.charge(1)
            frac = dyn.step(h, 1.0, d_cmd, self.ground_under(dyn.y[0:3]))
            step = frac * h
            f = (c_true * math.log(m_before / dyn.y[6]) / step) * dyn.d \
                if dyn.last_thrust_n > 0 and step > 0 else np.zeros(3)
            if step > 0:
                self.nav.propagate(self.nav.measure(f, step), step)
            self.t += step
            self.record(1.0 if dyn.last_thrust_n > 0 else 0.0)
            self.judge(frac, active)

    def steer(self, active) -> tuple[np.ndarray, float]:
        """Commanded site-frame thrust direction and the length of the next step (s)."""
        prof, p = self.profile, self.nav.y[0:3]
        h = prof.time_step_s
        if self.phase == "vertical_rise":
            rise = self.frame.altitude(p) - self.h_site
            top = prof.vertical_rise_height_m
            if self.t >= prof.vertical_rise_s - 1e-9 or (top is not None and rise >= top):
                self.phase = "pitch_over"
                self.event("pitch_over_start", height_m=float(rise))
            else:
                return self.frame.local_up(p), h
        d = self.spin.matrix(self.t).T @ active.direction(self.t)
        if self.phase == "pitch_over" and float(self.dyn.d @ d) > math.cos(math.radians(2.0)):
            self.phase = "guidance"
            self.event("guidance_start")
        return d, min(h, max(active.t_cutoff_s - self.t, 0.0))

    def judge(self, frac, active) -> None:
        if frac < 1.0:
            self.failure = f"impact at t = {self.t:.1f} s in {self.phase}"
            self.event("impact")
        elif self.dyn.propellant_exhausted:
            self.failure = (f"propellant exhausted at t = {self.t:.1f} s with v_go "
                            f"{active.v_go_m_s:.1f} m/s left")
            self.event("propellant_exhausted", mass_kg=float(self.dyn.y[6]))
        elif self.phase != "vertical_rise" and self.t >= active.t_cutoff_s - 1e-9:
            self.phase, self.cut = "cutoff", True
            self.event("engine_cutoff", mass_kg=float(self.dyn.y[6]), t_go_s=active.t_go_s,
                       v_go_m_s=active.v_go_m_s, command_state_t_s=active.t_state_s)
        elif self.t > self.profile.max_duration_s:
            self.failure = f"time limit {self.profile.max_duration_s} s reached in {self.phase}"

    def record(self, throttle: float) -> None:
        self.rows.append((self.t, *self.dyn.y[0:7], *self.nav.y[0:6], *self.dyn.d, throttle))
        self.phases.append(self.phase)


def _series(a: _Ascent) -> dict:
    x, fr = np.array(a.rows, dtype=float), a.frame
    t, p, v, pn, vn, d = x[:, 0], x[:, 1:4], x[:, 4:7], x[:, 8:11], x[:, 11:14], x[:, 14:17]
    up = fr.local_up(p)
    rel = p - fr.centre
    me = rel @ fr.me_from_enu.T
    lat = np.degrees(np.arcsin(me[:, 2] / np.linalg.norm(me, axis=1)))
    lon = np.degrees(np.arctan2(me[:, 1], me[:, 0]))
    alt = fr.altitude(p)
    arc = fr.radius_m * np.arctan2(np.hypot(rel[:, 0], rel[:, 1]), rel[:, 2])
    w = float(np.linalg.norm(fr.omega))                         # normal in site axes at t: R(t)ᵀ n
    k = fr.omega / w
    ang = -w * t[:, None]
    n_t = a.normal * np.cos(ang) + np.cross(k, a.normal) * np.sin(ang) + \
        k * (k @ a.normal) * (1 - np.cos(ang))
    return {
        "t_s": t, "et": a.et0 + t, "altitude_m": alt, "latitude_deg": lat, "longitude_deg": lon,
        "downrange_km": arc / 1e3,
        "speed_inertial_m_s": np.linalg.norm(v + np.cross(fr.omega, rel), axis=1),
        "speed_relative_m_s": np.linalg.norm(v, axis=1),
        "pitch_deg": np.degrees(np.arcsin(np.clip(np.sum(d * up, axis=1), -1, 1))),
        "yaw_deg": np.degrees(np.arcsin(np.clip(np.sum(d * n_t, axis=1), -1, 1))),
        "throttle": x[:, 17], "mass_kg": x[:, 7], "phase": np.array(a.phases),
        "terrain_clearance_m": alt - np.asarray(a.terrain(lat, lon), float),
        "nav_error_m": np.linalg.norm(pn - p, axis=1),
        "nav_velocity_error_m_s": np.linalg.norm(vn - v, axis=1),
        "r_me_m": me, "v_me_m_s": v @ fr.me_from_enu.T}


def _result(a: _Ascent, wall0: float) -> AscentResult:
    s = _series(a)
    fr, y, m0, et = a.frame, a.dyn.y, a.vehicle.wet_mass_kg, a.et0 + a.t
    state = fr.to_state(et, y[0:3], y[3:6], float(y[6])).to_frame("J2000")
    el = state_to_elements(fr.mu, state.r, state.v)
    rp, ra = el.a * (1 - el.e), (el.a * (1 + el.e) if el.e < 1 else math.inf)
    h_me = frames.rotation("J2000", "MOON_ME", [et])[0] @ np.cross(state.r, state.v)
    incl = math.degrees(math.acos(h_me[2] / np.linalg.norm(h_me)))
    r_i, v_i = a.inertial(a.t, y[0:3], y[3:6])
    gam = math.asin(float(r_i @ v_i) / (np.linalg.norm(r_i) * np.linalg.norm(v_i)))
    h_i = np.cross(r_i, v_i)
    plane = math.degrees(math.acos(min(1.0, float(h_i @ a.normal) / np.linalg.norm(h_i))))
    failure, peri_km = a.failure, (rp - MOON_MEAN_RADIUS) / 1e3
    if failure is None and peri_km < a.profile.min_periapsis_altitude_km:
        failure = (f"periapsis {peri_km:.2f} km below the "
                   f"{a.profile.min_periapsis_altitude_km} km minimum")
    flown = s["phase"] != "vertical_rise"
    clearance = float(np.min(s["terrain_clearance_m"][flown])) if np.any(flown) else math.nan
    far = s["downrange_km"] > 5.0
    far_clearance = float(np.min(s["terrain_clearance_m"][far])) if np.any(far) else math.nan
    figures = {
        "radius_error_m": float(np.linalg.norm(r_i)) - a.r_d,
        "speed_error_m_s": float(np.linalg.norm(v_i)) - a.v_d,
        "flight_path_angle_error_deg": math.degrees(gam - a.gamma), "plane_error_deg": plane,
        "inclination_j2000_deg": math.degrees(el.i), "site_height_m": a.h_site,
        "min_terrain_clearance_beyond_5_km_m": far_clearance,
        "ground_delay_s": a.delay, "telemetry": "on-board" if a.delay == 0 else a.telemetry,
        "imu_bias_m_s2": a.nav.bias.tolist(), "imu_scale_factor": a.nav.scale.tolist(),
        "imu_misalignment_rad": a.nav.misalignment.tolist(),
        "nav_error_final_m": float(s["nav_error_m"][-1]),
        "guidance_cycles": a.guid.iterations, "wall_time_s": time.perf_counter() - wall0}
    m1 = float(y[6])
    return AscentResult(failure is None, failure, s, a.events, state if a.cut else None, peri_km,
                        (ra - MOON_MEAN_RADIUS) / 1e3, incl, a.t,
                        delta_v_from_masses(m0, m1, a.isp_true), m0 - m1, clearance, figures)


def fly_ascent(latitude_deg: float, longitude_deg: float, et: float, vehicle: AscentVehicle,
               target: AscentTarget, *, profile: AscentProfile | None = None,
               imu: AscentImu | None = None, rng: np.random.Generator | None = None,
               ground_delay_s: float = 0.0,
               telemetry: Literal["tracking", "navigation"] = "tracking",
               thrust_factor: float = 1.0, isp_factor: float = 1.0,
               field: GravityField | None = None,
               terrain_height_m: Callable | None = None) -> AscentResult:
    """Fly the ascent from the site (planetocentric MOON_ME lat/lon, deg) at lift-off epoch ``et``
    (s TDB past J2000) to cut-off. ``ground_delay_s`` (s): 0 flies the on-board loop; > 0 the
    ground loop on ``telemetry``. ``thrust_factor``/``isp_factor``: truth dispersions (1 =
    nominal). ``field``: GRAIL truth gravity (navigation and guidance keep the point mass).
    ``terrain_height_m(lat_deg, lon_deg)`` (m above the 1737.4 km sphere, vectorised): default the
    global DEM.
    Raises :class:`InputError` for infeasible inputs and :class:`GuidanceFailure` if no
    pre-launch guidance solution exists; failures in flight give ``success=False``."""
    wall0 = time.perf_counter()
    for bad, name, value, reason in (
            (not isinstance(rng, np.random.Generator), "rng", rng,
             "pass a seeded numpy.random.Generator"),
            (not (0.0 <= ground_delay_s < 600.0), "ground_delay_s", ground_delay_s,
             "must lie in [0, 600) s"),
            (telemetry not in ("tracking", "navigation"), "telemetry", telemetry,
             "choose 'tracking' or 'navigation'"),
            (not 0.5 <= thrust_factor <= 1.5, "thrust_factor", thrust_factor, "not in [0.5, 1.5]"),
            (not 0.5 <= isp_factor <= 1.5, "isp_factor", isp_factor, "not in [0.5, 1.5]")):
        if bad:
            raise InputError(reason, quantity=name, value=value)
    loop = _Ascent(latitude_deg, longitude_deg, et, vehicle, target, profile or AscentProfile(),
                   imu or AscentImu(), rng, ground_delay_s, telemetry, thrust_factor, isp_factor,
                   field, terrain_height_m or lunar_dem.height_m)
    loop.run()
    return _result(loop, wall0)
