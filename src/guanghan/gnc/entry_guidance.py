"""Closed-loop numerical predictor–corrector bank-angle guidance for skip and direct entries.

Every guidance cycle the compiled predictor (:func:`predict`) integrates the same 3-DOF dynamics as
the simulation (:mod:`guanghan.dynamics.entry_kernels`) from the current state to the terminal
altitude, with the bank magnitude linear in the energy-like variable e = μ/r − V²/2 (FNPEG,
Lu 2014, eq. 27): |σ(e)| = σ0 + (σf − σ0)(e − e0)/(ef − e0), σf fixed. The corrector solves the
scalar equation "downrange miss(σ0) = 0" with ``scipy.optimize.brentq`` (Lu 2014 uses a secant /
Gauss-Newton step on the squared range error, Lu et al. 2017 §III the same; the bracketed root
finder is our departure, chosen for robustness across the skip / no-skip boundary, where the miss
jumps).

Lateral logic (Lu 2014 §IV.C, Apollo-heritage): the target's angular distance Z from the current
plane of relative motion is kept inside a corridor that narrows linearly with speed,
|Z|·R ≤ c0 + c1·V; leaving it reverses the bank sign (towards the target), up to a maximum number
of reversals. The predictor applies the same rule so the predicted range includes the reversals,
and holds the bank below the guidance cut-off speed as the flight does.

Load limiter (``GuidanceSettings.max_load_g``): after the corrector, the profile parameter σ0 is
bounded so that the *predicted* peak aerodynamic load of the current atmospheric pass (predictor
with the estimated drag ratio and L/D) stays below ``max_load_g − load_margin_g``: if the range
solution predicts more, σ0 is lowered (more lift up, shallower dive) to the largest value that
does not, found with ``brentq`` on the predicted peak minus the limit. Range is then traded for
load until the peak has passed, after which the corrector recovers the range. This bounds the
bank magnitude through the lift, as the path-constraint logic of FNPEG does (Lu 2014; Lu et al.
2017 report the load limit met in their dispersions), but it is our formulation on the predictor,
not those papers' constraint-enforcement equations (which were not at hand when it was written).
Only the current pass counts: limiting a second-entry peak from the first pass would lengthen the
skip and trade hundreds of km of range for it; the second pass is limited when it is flown.

Phases: ``first_entry`` → (``skip``: above the sensible-atmosphere altitude on the way up, bank
held, no corrections) → ``second_entry`` → ``final`` (relative speed below a threshold: no more
corrections, the magnitude follows the last solved energy profile; lateral logic only) →
``bank_hold`` (relative speed below ``final_phase_end_speed_m_s``: the guidance stops commanding and
the last command is held down to drogue deployment). A direct entry goes from ``first_entry``
straight to ``final``.

Guidance cut-off: the Apollo command module's entry guidance stopped steering when the Earth-relative
speed fell below VQUIT = 1,000 ft/s and held the last roll command (Colossus 2A / Comanche 055, the
Apollo 11 CM program, REENTRY_CONTROL.agc, routine PREDICT3 "IF V-VQUIT NEG, STOP STEERING", then
P67.1 "THE LAST COMPUTED ROLL ANGLE IS MAINTAINED"; constant VQUIT = 1000/2VS). Below that speed the
capsule is nearly falling vertically, lift moves the landing point by little, and the shrinking
crossrange corridor (c0 + c1·V → c0) would otherwise keep ordering reversals just before the drogue.
The default cut-off is Apollo's 304.8 m/s.

Assumptions and limitations
    * The predictor uses the nominal vehicle (mass, Cd table) and the guidance's single
      atmosphere profile, corrected by fading-memory estimates of the drag ratio and L/D
      (:meth:`EntryGuidance.estimate`); altitude structure of the density error is not modelled.
    * Miss is the along-track angle from the predicted terminal point to the aim point on the
      great circle through the current position and the aim point, times the mean Earth radius.
      Crossrange is left to the lateral logic.
    * Load limit only (no heat-rate or dynamic-pressure constraint). The limiter trusts the
      predictor: a truth denser than estimated at the peak altitude eats into ``load_margin_g``;
      if even σ0 = ``sigma_min_deg`` is predicted above the limit, that bound is commanded and
      the limit may be exceeded (the command is flagged ``load_limited``).
    * Bank reversals are instantaneous in the predictor; the simulation rate-limits them.

References
    * Lu, P. (2014), "Entry guidance: a unified method", J. Guid. Control Dyn. 37(3), 713-728.
    * Lu, P., Brunner, C. W., Stachowiak, S. J., Mendeck, G. F., Tigges, M. A., Cerimele, C. J.
      (2017), "Verification of a fully numerical entry guidance algorithm", J. Guid. Control Dyn.
      40(2), 230-247.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field, model_validator
from scipy.optimize import brentq

from guanghan.dynamics.entry_kernels import aero_acceleration, height, rk4_step
from guanghan.environment.constants import EARTH_MEAN_RADIUS as R_MEAN
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.config_model import ConfigModel, fail
from guanghan.errors import GuidanceFailure

_BIG_MISS = 1.0e8            # miss (m) reported when the predictor does not reach the terminal


class GuidanceSettings(ConfigModel):
    """Tuning of the predictor–corrector (angles in degrees, distances in km, as named)."""

    mode: Literal["closed_loop"] = "closed_loop"   # the entry's guidance mode (open-loop modes:
                                                   # guanghan.gnc.entry_open_loop)

    sigma_final_deg: float = Field(default=70.0, gt=0, lt=180)          # σf of the energy-linear profile
    sigma_min_deg: float = Field(default=15.0, ge=0, lt=180)  # bounds of σ0 (lateral authority)
    sigma_max_deg: float = Field(default=165.0, gt=0, le=180)
    period_s: float = Field(default=2.0, ge=0.1, le=60.0)                  # guidance cycle
    predictor_step_s: float = Field(default=2.0, ge=0.01, le=60.0)  # RK4 step of the predictor inside the atmosphere
    predictor_coast_step_s: float = Field(default=10.0, ge=0.01, le=600.0)   # RK4 step above the sensible atmosphere
    sensible_atmosphere_km: float = Field(default=100.0, gt=0)  # skip exit / second entry altitude
    terminal_altitude_km: float = Field(default=10.0, gt=0)  # predictor stops here (drogue deployment)
    terminal_speed_m_s: float = Field(default=200.0, gt=0)      # sets ef of the bank profile
    final_phase_speed_m_s: float = Field(default=800.0, gt=0)  # below: hold |σ|, lateral logic only
    final_phase_end_speed_m_s: float = Field(default=304.8, gt=0, le=2000.0, description=(
        "the Earth-relative speed at which the guidance stops commanding and holds the bank, up to "
        "2,000 m/s (Apollo: VQUIT = 1,000 ft/s = 304.8 m/s; see the module docstring)"))
    corridor_km: float = Field(default=1.0, ge=0)               # c0 of the crossrange corridor
    corridor_km_per_km_s: float = Field(default=3.0, ge=0)      # c1 (km per km/s of relative speed)
    max_reversals: int = Field(default=8, ge=0, le=1000, description=(
        "largest number of bank reversals (a skip entry flies a handful; above 1000 is not a limit)"))
    max_flight_s: float = Field(default=3600.0, gt=0)  # predictions longer than this count as overshoot
    tolerance_deg: float = Field(default=0.02, ge=1e-6, le=1.0)            # brentq xtol on σ0
    miss_tolerance_km: float = Field(default=0.3, gt=0)  # the corrector stops below this predicted miss
    estimator_gain: float = Field(default=0.3, ge=0, le=1)  # fading-memory gain per cycle of the ratio filter
    estimator_min_g: float = Field(default=0.05, ge=0)  # sensed load (g0) below which the filters hold
    max_load_g: float | None = Field(default=None, gt=0)   # load limit (g0); None: no limiter
    load_margin_g: float = Field(default=0.5, ge=0)  # the limiter aims at max_load_g − load_margin_g

    @model_validator(mode="after")
    def _check_limiter(self) -> "GuidanceSettings":
        if not self.final_phase_end_speed_m_s < self.final_phase_speed_m_s:
            fail(f"must be below final_phase_speed_m_s ({self.final_phase_speed_m_s} m/s): the "
                 "guidance ends after its final phase has begun", "final_phase_end_speed_m_s",
                 self.final_phase_end_speed_m_s)
        if self.max_load_g is not None and not self.max_load_g - self.load_margin_g > 0.0:
            fail(f"must exceed load_margin_g ({self.load_margin_g} g): the limiter aims at "
                 "max_load_g - load_margin_g", "max_load_g", self.max_load_g)
        return self


@dataclass(frozen=True)
class GuidanceModel:
    """The guidance's own knowledge: nominal vehicle and atmosphere, as kernel arrays (SI)."""

    planet: np.ndarray
    vehicle: np.ndarray
    mach_nodes: np.ndarray
    cd_nodes: np.ndarray
    altitude0: float
    step: float
    log_density: np.ndarray
    sound_speed: np.ndarray


@dataclass
class GuidanceCommand:
    """One cycle's output: bank (rad, signed), profile parameter σ0 (rad), predicted miss (m)."""

    bank: float
    sigma0: float
    miss: float
    reversed: bool = False
    failure: GuidanceFailure | None = None
    load_limited: bool = False       # σ0 lowered by the load limiter this cycle


@njit(cache=True)
def _energy(x, mu):
    rn = np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    return mu / rn - 0.5 * (x[3] * x[3] + x[4] * x[4] + x[5] * x[5])


@njit(cache=True)
def target_offset_angle(x, aim):
    """Angle (rad) of the unit vector ``aim`` out of the plane of relative motion, + to the left."""
    hx = x[1] * x[5] - x[2] * x[4]
    hy = x[2] * x[3] - x[0] * x[5]
    hz = x[0] * x[4] - x[1] * x[3]
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    s = (hx * aim[0] + hy * aim[1] + hz * aim[2]) / hn
    return np.arcsin(min(1.0, max(-1.0, s)))


@njit(cache=True)
def lateral_sign(x, sign, reversals_left, aim, corridor):
    """Bank sign after the corridor test; returns (sign, reversals_left, reversed?)."""
    z = target_offset_angle(x, aim)
    speed = np.sqrt(x[3] * x[3] + x[4] * x[4] + x[5] * x[5])
    limit = (corridor[0] + corridor[1] * speed) / R_MEAN
    wanted = -1.0 if z > 0.0 else 1.0                     # target on the left: bank left (σ < 0)
    if abs(z) > limit and sign != wanted and reversals_left > 0:
        return wanted, reversals_left - 1, True
    return sign, reversals_left, False


@njit(cache=True)
def track_frame(x0, aim):
    """(p0, q, θ_aim): unit position, in-plane normal and aim angle (rad) of the great circle
    from ``x0`` to the unit vector ``aim``."""
    p0 = x0[:3] / np.sqrt(x0[0] ** 2 + x0[1] ** 2 + x0[2] ** 2)
    n = np.cross(p0, aim)
    n = n / np.sqrt(n[0] ** 2 + n[1] ** 2 + n[2] ** 2)
    q = np.cross(n, p0)
    return p0, q, np.arctan2(q @ aim, p0 @ aim)


@njit(cache=True)
def track_angle(x, p0, q, previous):
    """Along-track angle (rad) of ``x`` on the track frame, unwrapped next to ``previous``."""
    theta = np.arctan2(q[0] * x[0] + q[1] * x[1] + q[2] * x[2],
                       p0[0] * x[0] + p0[1] * x[1] + p0[2] * x[2])
    return previous + (theta - previous + np.pi) % (2.0 * np.pi) - np.pi


@njit(cache=True)
def predict(x0, sigma0, sigma_f, e_f, sign0, reversals, aim, corridor, steps, limits,
            planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho, sound, scale):
    """Predicted (miss (m), flight time (s), peak aero acceleration (m/s²), status) from ``x0``.

    The peak is that of the current atmospheric pass: it stops being updated once the predicted
    flight climbs above the sensible atmosphere (a skip), whose next pass the guidance handles
    when it gets there.

    ``steps = [dt in atmosphere, dt in coast]`` (s); ``limits = [sensible-atmosphere altitude,
    terminal altitude, max flight time, guidance cut-off speed]`` (m, m, s, m/s): below the
    cut-off speed the bank is held as the flight holds it (no reversals, magnitude frozen).
    Status 0: terminal altitude reached; 1: flight time exceeded; 2: escaping (e < 0 and climbing
    above the atmosphere).
    """
    mu = planet[0]
    e0 = _energy(x0, mu)
    x = x0.copy()
    xn = np.empty(6)
    work = np.empty((6, 6))
    acc = np.empty(3)
    sign, rev_left = sign0, reversals
    t, peak = 0.0, 0.0
    h = height(x, planet[6], planet[7])
    in_pass, inside = True, h <= limits[0]            # current atmospheric pass; been inside it
    p0, q, theta_aim = track_frame(x0, aim)
    theta = 0.0
    held, sigma = False, sigma0
    while t < limits[2]:
        e = _energy(x, mu)
        held = held or x[3] * x[3] + x[4] * x[4] + x[5] * x[5] < limits[3] * limits[3]
        if not held:
            frac = min(1.0, max(0.0, (e - e0) / (e_f - e0))) if e_f != e0 else 1.0
            sigma = sigma0 + (sigma_f - sigma0) * frac                 # Lu 2014 eq. 27
        climbing = x[0] * x[3] + x[1] * x[4] + x[2] * x[5] > 0.0
        if h > limits[0]:
            if climbing and e < 0.0:
                return _BIG_MISS, t, peak, 2
            if climbing and inside:
                in_pass = False
            dt = steps[1]
        else:
            dt = steps[0]
            if not held:
                sign, rev_left, _ = lateral_sign(x, sign, rev_left, aim, corridor)
        rk4_step(x, sign * sigma, dt, planet, vehicle, mach_nodes, cd_nodes, h0, dh, logrho,
                 sound, scale, work, xn)
        hn = height(xn, planet[6], planet[7])
        t += dt
        if hn <= limits[1]:
            w = (h - limits[1]) / (h - hn)                             # interpolate to h_stop
            for i in range(6):
                xn[i] = x[i] + w * (xn[i] - x[i])
            theta = track_angle(xn, p0, q, theta)
            return R_MEAN * (theta - theta_aim), t - (1.0 - w) * dt, peak, 0
        x[:] = xn
        theta = track_angle(x, p0, q, theta)
        h = hn
        inside = inside or h <= limits[0]
        if h < limits[0] and in_pass:
            from_atm = np.sqrt(_aero_sq(x, sign * sigma, vehicle, mach_nodes, cd_nodes, planet,
                                        h0, dh, logrho, sound, scale, acc))
            peak = max(peak, from_atm)
    return _BIG_MISS, t, peak, 1


@njit(cache=True)
def _aero_sq(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, logrho, sound, scale, acc):
    aero_acceleration(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, logrho, sound,
                      scale, acc)
    return acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2]


@dataclass
class EntryGuidance:
    """Stateful guidance: call :meth:`command` once per cycle with the navigated Earth-fixed state."""

    model: GuidanceModel
    settings: GuidanceSettings
    aim_itrf: np.ndarray                      # unit vector of the aim point (ITRF93)
    sign: float = 1.0
    reversals_left: int = field(default=-1)
    sigma0: float = field(default=np.nan)     # last solution (rad)
    calls: int = 0                            # predictor runs (for cost accounting)
    drag_ratio: float = 1.0                   # filtered sensed/model drag

    def __post_init__(self):
        s = self.settings
        if self.reversals_left < 0:
            self.reversals_left = s.max_reversals
        if np.isnan(self.sigma0):
            self.sigma0 = np.radians(0.5 * (s.sigma_min_deg + s.sigma_max_deg))
        self.aim_itrf = np.asarray(self.aim_itrf, float) / np.linalg.norm(self.aim_itrf)
        self._corridor = np.array([s.corridor_km * 1e3, s.corridor_km_per_km_s])
        self._steps = np.array([s.predictor_step_s, s.predictor_coast_step_s])
        self._limits = np.array([s.sensible_atmosphere_km * 1e3, s.terminal_altitude_km * 1e3,
                                 s.max_flight_s, s.final_phase_end_speed_m_s])
        r_f = self.model.planet[2] + s.terminal_altitude_km * 1e3
        self._e_f = self.model.planet[0] / r_f - 0.5 * s.terminal_speed_m_s ** 2
        self._sigma_f = np.radians(s.sigma_final_deg)
        self._vehicle = self.model.vehicle.copy()          # [mass, area, estimated L/D]
        self._memo = {}                                    # this cycle's predictions by σ0
        self._e_solved = np.nan                            # energy of the last correction (J/kg)

    def miss(self, x: np.ndarray, sigma0: float) -> tuple[float, float, float, int]:
        """Predicted (miss (m), time to terminal (s), peak aero accel (m/s²), status) for σ0 (rad)."""
        key = (x.tobytes(), float(sigma0), self.sign, self.reversals_left, self.drag_ratio,
               self._vehicle[2])
        if key not in self._memo:
            m = self.model
            self.calls += 1
            self._memo[key] = predict(x, sigma0, self._sigma_f, self._e_f, self.sign,
                                      self.reversals_left, self.aim_itrf, self._corridor,
                                      self._steps, self._limits, m.planet, self._vehicle,
                                      m.mach_nodes, m.cd_nodes, m.altitude0, m.step,
                                      m.log_density, m.sound_speed, self.drag_ratio)
        return self._memo[key]

    def limit_load(self, x: np.ndarray, sigma0: float) -> tuple[float, bool]:
        """σ0 (rad) bounded so the predicted peak load stays below the limit; (σ0, limited?).

        The largest σ0 in [``sigma_min_deg``, σ0] whose predicted peak aerodynamic acceleration is
        at most (max_load_g − load_margin_g)·g0 (module docstring, "Load limiter").
        """
        s = self.settings
        if s.max_load_g is None:
            return sigma0, False
        limit = (s.max_load_g - s.load_margin_g) * G0
        excess = lambda sig: self.miss(x, sig)[2] - limit            # noqa: E731
        if excess(sigma0) <= 0.0:
            return sigma0, False
        lo = np.radians(s.sigma_min_deg)
        if sigma0 <= lo or excess(lo) > 0.0:
            return min(lo, sigma0), True
        return brentq(excess, lo, sigma0, xtol=np.radians(s.tolerance_deg)), True

    def estimate(self, x: np.ndarray, sensed: np.ndarray, bank: float) -> None:
        """Update the filtered drag ratio and L/D from the sensed aerodynamic acceleration (m/s²).

        Lu et al. (2017) §IV.A: fading-memory filters of measured-to-model ratios; here the drag
        ratio (density × Cd·S/m dispersions together) and the lift-to-drag ratio, updated only
        when the sensed load exceeds ``estimator_min_g``.
        """
        s, m = self.settings, self.model
        if np.linalg.norm(sensed) < s.estimator_min_g * G0:
            return
        u = x[3:] / np.linalg.norm(x[3:])
        drag = -sensed @ u
        lift = np.linalg.norm(sensed + drag * u)
        model = np.empty(3)
        aero_acceleration(x, bank, m.vehicle, m.mach_nodes, m.cd_nodes, m.planet, m.altitude0,
                          m.step, m.log_density, m.sound_speed, 1.0, model)
        k = s.estimator_gain
        self.drag_ratio += k * (drag / max(-model @ u, 1e-12) - self.drag_ratio)
        self._vehicle[2] += k * (lift / drag - self._vehicle[2])

    def solve(self, x: np.ndarray, phase: str) -> tuple[float, float]:
        """σ0 (rad) nulling the downrange miss, and that miss (m); raises GuidanceFailure.

        Secant steps from the last solution first (Lu 2014 §IV.B: one or two per cycle suffice
        once converged), stopping when |miss| < ``miss_tolerance_km``; a bracketing scan and
        brentq when the secant leaves the bounds or stalls.
        """
        s = self.settings
        lo, hi = np.radians(s.sigma_min_deg), np.radians(s.sigma_max_deg)
        tol = s.miss_tolerance_km * 1e3
        f = lambda sig: self.miss(x, sig)[0]                          # noqa: E731
        s0 = min(hi, max(lo, self.sigma0))
        f0 = f(s0)
        if abs(f0) < tol:
            return s0, f0
        s1 = min(hi, max(lo, s0 + np.copysign(np.radians(1.0), f0)))  # overshoot: bank more
        for _ in range(4):
            f1 = f(s1)
            if abs(f1) < tol:
                return s1, f1
            if f1 == f0 or abs(f1) >= _BIG_MISS:
                break
            s0, f0, s1 = s1, f1, s1 - f1 * (s1 - s0) / (f1 - f0)
            if not lo <= s1 <= hi:
                break
        return self._bracket(f, lo, hi, phase)

    def _bracket(self, f, lo: float, hi: float, phase: str) -> tuple[float, float]:
        """Scan σ0 over [lo, hi] for a sign change of the miss, then brentq."""
        s = self.settings
        grid = np.linspace(lo, hi, 9)
        vals = np.array([f(g) for g in grid])
        change = np.flatnonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))
        if change.size == 0:
            kind = "overshoots" if vals.min() > 0 else "undershoots"
            raise GuidanceFailure(phase, f"target outside the reachable footprint: every σ0 in "
                                  f"[{s.sigma_min_deg}, {s.sigma_max_deg}] deg {kind} (smallest "
                                  f"miss {np.min(np.abs(vals)) / 1e3:.1f} km at σ0 = "
                                  f"{np.degrees(grid[np.argmin(np.abs(vals))]):.1f} deg)")
        k = change[np.argmin(np.abs(grid[change] - self.sigma0))]
        root = brentq(f, grid[k], grid[k + 1], xtol=np.radians(s.tolerance_deg))
        return root, f(root)

    def best_effort(self, x: np.ndarray) -> float:
        """σ0 (rad) with the smallest |miss| over the allowed range (used after a failure)."""
        s = self.settings
        grid = np.radians(np.linspace(s.sigma_min_deg, s.sigma_max_deg, 13))
        return float(grid[np.argmin([abs(self.miss(x, g)[0]) for g in grid])])

    def command(self, x: np.ndarray, phase: str, correct: bool = True, sensed=None,
                bank: float = 0.0) -> GuidanceCommand:
        """Bank command for the Earth-fixed state ``x`` (m, m/s) in ``phase``.

        ``sensed`` is the measured aerodynamic acceleration (m/s², ITRF93) at the current
        ``bank`` (rad), for the estimators; ``correct=False`` (final phase) keeps σ0 and applies
        the lateral logic only.
        """
        if sensed is not None:
            self.estimate(x, np.asarray(sensed, float), bank)
        self._memo.clear()
        failure, miss, limited = None, np.nan, False
        if correct:
            try:
                self.sigma0, miss = self.solve(x, phase)
            except GuidanceFailure as exc:
                failure = exc
                self.sigma0 = self.best_effort(x)
            self.sigma0, limited = self.limit_load(x, self.sigma0)
            if limited:
                miss = self.miss(x, self.sigma0)[0]
            self._e_solved = _energy(x, self.model.planet[0])
        sign, self.reversals_left, flipped = lateral_sign(x, self.sign, self.reversals_left,
                                                          self.aim_itrf, self._corridor)
        self.sign = sign
        return GuidanceCommand(sign * self._magnitude(x), self.sigma0, miss, flipped, failure,
                               limited)

    def _magnitude(self, x: np.ndarray) -> float:
        """|σ| (rad) of the last solved profile at the energy of ``x`` (σ0 right after a solve).

        Without corrections (final phase) the capsule keeps flying the last predicted plan,
        σ(e) of Lu 2014 eq. 27 from the energy of that solution, rather than a frozen σ0.
        """
        if np.isnan(self._e_solved) or self._e_f == self._e_solved:
            return self.sigma0
        frac = (_energy(x, self.model.planet[0]) - self._e_solved) / (self._e_f - self._e_solved)
        return self.sigma0 + (self._sigma_f - self.sigma0) * min(1.0, max(0.0, frac))
