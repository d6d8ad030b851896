"""Closed-loop numerical predictor–corrector bank-angle guidance for skip and direct entries.

Every guidance cycle the compiled predictor (:func:`guanghan.gnc.entry_predictor.predict`)
integrates the same 3-DOF dynamics as the simulation from the current state to the terminal
altitude in the guidance's own models, with the bank magnitude linear in the energy-like variable
e = μ/r − V²/2 (FNPEG, Lu 2014, eq. 27): |σ(e)| = σ0 + (σf − σ0)(e − e0)/(ef − e0), σf fixed. The
corrector solves the scalar equation "downrange miss(σ0) = 0" by secant steps from the last
solution along the last slope (Lu 2014 uses a secant / Gauss-Newton step on the squared range
error, Lu et al. 2017 §III the same), finished with ``scipy.optimize.brentq`` once two steps
straddle the root, and by a scan of the whole σ0 range and brentq when the secant fails (our
departure, chosen for robustness across the skip / no-skip boundary, where the miss jumps); every
path stops at the first prediction within ``miss_tolerance_km``.

The guidance's models: the nominal vehicle and the on-board atmosphere forecast (NRLMSIS along the
great circle to the target, :mod:`guanghan.gnc.entry_predictor`), corrected every cycle by two
first-order fading-memory filters of measured-to-model ratios driven by the sensed aerodynamic
acceleration (Lu et al. 2017's density and L/D estimation; :meth:`EntryGuidance.estimate`):

    K_ρ ← K_ρ + k·(D_sensed / D_model − K_ρ),      (L/D) ← (L/D) + k·(L_sensed / D_sensed − (L/D)),

k = ``estimator_gain`` per cycle (a memory of 1/k cycles), D_model the drag of the nominal vehicle
in the forecast at the current state, updated only above ``estimator_min_g``. Both estimates hold
for the whole prediction, in both passes of a skip: the forecast carries the along-track and
altitude structure of the atmosphere, K_ρ what the forecast and the vehicle model get wrong
uniformly. (The equations are written here from those papers' description; their numbering was
not at hand.)

Lateral logic (Apollo heritage, Lu 2014 §IV.C): the bank sign is reversed, up to
``max_reversals`` times, when the target lies outside a corridor on the wrong side,
|Z|·R > c0 + c1·V + c2·V² (V the Earth-relative speed). Below ``predicted_lateral_speed_m_s``
(Apollo's VMIN, 12,883 ft/s) Z is the target's angle out of the current plane of relative motion,
as in Apollo's final phase (which also switches there from the inertial to the relative plane:
REENTRY_CONTROL.agc, SUBETA). Above it Z is the target's offset from the landing predicted with
the lift in the vertical plane (:mod:`guanghan.gnc.entry_predictor`, a cheaper prediction at 4×
the steps, 16 s: over one dispersed sample's predictions its crossrange is within 0.2 km (p90)
of a 0.5-s-step one, against a corridor of 20 km or more there): the plane alone misses what it
does by itself on the way down, chiefly the Coriolis turn of the Earth-relative velocity during a
skip. On the chained Chang'e-5 return (interface 9° N 55° E, 5 min above 100 km) that turn put the
target ~70 km out of the second entry's plane, more than the second pass could steer away, and 37 of 50 seeded dispersed entries from that interface
failed (issue 15; Apollo
took Earth rotation into LATANG by turning the target with the Earth over the predicted time to
go). The corridor has Apollo's shape, Y = KLAT·V² + LATBIAS with KLAT = (L/D)/24 in units of the
satellite speed VS = 25,766 ft/s (Colossus 2A, REENTRY_CONTROL.agc, LIMITL/D; KLAT = LAD/24):
c2 = 1.29 km/(km/s)² for L/D = 0.3, wide while the capsule can still steer (80 km at 7.85 km/s),
narrow at the end; c0 = 0.5 km, about half Apollo's LATBIAS (0.5 NM), and c1 = 0 (kept for other
corridors). The predictor applies the plane-of-motion test so the predicted range includes the
reversals (module :mod:`guanghan.gnc.entry_predictor`).

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
crossrange corridor (→ c0) would otherwise keep ordering reversals just before the drogue.
The default cut-off is Apollo's 304.8 m/s.

Assumptions and limitations
    * The predictor uses the nominal vehicle (mass, Cd table) and the on-board forecast, corrected
      by the estimates above; an altitude structure of the density error that the forecast lacks
      is absorbed only as the estimate follows it.
    * Miss is the along-track angle from the predicted terminal point to the aim point on the
      great circle through the current position and the aim point, times the mean Earth radius.
      Crossrange is left to the lateral logic.
    * The landing error left is mostly the end game's (~1 km rms in each axis in the 50-case
      dispersion test): the final phase makes no more range corrections while its reversals
      (rolled through lift-up) and, below the cut-off, the held bank (σf ≈ 70°) keep moving the
      landing, and the corridor, not the predicted landing, decides the last reversals.
    * Load limit only (no heat-rate or dynamic-pressure constraint). The limiter trusts the
      predictor: a truth denser than estimated at the peak altitude eats into ``load_margin_g``;
      if even σ0 = ``sigma_min_deg`` is predicted above the limit, that bound is commanded and
      the limit may be exceeded (the command is flagged ``load_limited``).
    * The predictor rolls the capsule at its rate through lift-up as the simulation does, with
      the step's mean bank over each 2 s step.

References
    * Lu, P. (2014), "Entry guidance: a unified method", J. Guid. Control Dyn. 37(3), 713-728.
    * Lu, P., Brunner, C. W., Stachowiak, S. J., Mendeck, G. F., Tigges, M. A., Cerimele, C. J.
      (2017), "Verification of a fully numerical entry guidance algorithm", J. Guid. Control Dyn.
      40(2), 230-247.
    * Apollo 11 command-module program Colossus 2A (Comanche 055), REENTRY_CONTROL.agc (routines
      TARGETNG, LIMITL/D, PREDICT3 and their constants), transcribed by the Virtual AGC project.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import Field, model_validator
from scipy.optimize import brentq

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.constants import EARTH_MEAN_RADIUS as R_MEAN
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.errors import GuidanceFailure
from guanghan.gnc.entry_predictor import (BIG_MISS, GuidanceModel, energy, model_aero, plane_offset,
                                          predict, reversal)


class GuidanceSettings(ConfigModel):
    """Tuning of the predictor–corrector (angles in degrees, distances in km, as named)."""

    mode: Literal["closed_loop"] = "closed_loop"   # the entry's guidance mode (open-loop modes:
                                                   # guanghan.gnc.entry_open_loop)

    sigma_final_deg: float = Field(default=70.0, gt=0, lt=180)          # σf of the energy-linear profile
    sigma_min_deg: float = Field(default=15.0, ge=0, lt=180)  # bounds of σ0 (lateral authority)
    sigma_max_deg: float = Field(default=165.0, gt=0, le=180)
    period_s: float = Field(default=2.0, ge=0.1, le=60.0)                  # guidance cycle
    # RK4 step of the predictor inside the atmosphere (its error: guanghan.gnc.entry_predictor)
    predictor_step_s: float = Field(default=4.0, ge=0.01, le=60.0)
    predictor_coast_step_s: float = Field(default=10.0, ge=0.01, le=600.0)   # RK4 step above the sensible atmosphere
    sensible_atmosphere_km: float = Field(default=100.0, gt=0)  # skip exit / second entry altitude
    terminal_altitude_km: float = Field(default=10.0, gt=0)  # predictor stops here (drogue deployment)
    terminal_speed_m_s: float = Field(default=200.0, gt=0)      # sets ef of the bank profile
    final_phase_speed_m_s: float = Field(default=800.0, gt=0)  # below: hold |σ|, lateral logic only
    final_phase_end_speed_m_s: float = Field(default=304.8, gt=0, le=2000.0, description=(
        "the Earth-relative speed at which the guidance stops commanding and holds the bank, up to "
        "2,000 m/s (Apollo: VQUIT = 1,000 ft/s = 304.8 m/s; see the module docstring)"))
    corridor_km: float = Field(default=0.5, ge=0)               # c0 of the crossrange corridor
    corridor_km_per_km_s: float = Field(default=0.0, ge=0)      # c1 (km per km/s of relative speed)
    corridor_km_per_km2_s2: float = Field(default=1.29, ge=0)   # c2 (km per (km/s)²; Apollo's KLAT)
    predicted_lateral_speed_m_s: float = Field(default=3926.8, ge=0, le=20000.0, description=(
        "relative speed above which the lateral logic reads the target's offset from the landing "
        "predicted with the lift in the vertical plane, below from the plane of motion: 0 to "
        "20,000 m/s (Apollo's VMIN = 12,883 ft/s = 3,926.8 m/s; above any entry speed: never)"))
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


class _Within(Exception):
    """A prediction inside the miss tolerance, raised out of brentq."""

    def __init__(self, sigma0: float, miss: float):
        super().__init__()
        self.sigma0, self.miss = sigma0, miss


def _root(f, a: float, b: float, xtol: float, tol: float) -> tuple[float, float]:
    """(σ0, miss) from brentq on the miss ``f`` over the bracket [a, b], stopped at the first
    σ0 whose predicted |miss| is below ``tol`` (m), the secant's own stopping rule, or at
    ``xtol`` (rad) on σ0."""
    def g(sig):
        m = f(sig)
        if abs(m) < tol:
            raise _Within(sig, m)
        return m
    try:
        root = brentq(g, a, b, xtol=xtol)
    except _Within as hit:
        return hit.sigma0, hit.miss
    return root, f(root)


@dataclass
class GuidanceCommand:
    """One cycle's output: bank (rad, signed), profile parameter σ0 (rad), predicted miss (m)."""

    bank: float
    sigma0: float
    miss: float
    reversed: bool = False
    failure: GuidanceFailure | None = None
    load_limited: bool = False       # σ0 lowered by the load limiter this cycle


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
        self._corridor = np.array([s.corridor_km * 1e3, s.corridor_km_per_km_s,
                                   s.corridor_km_per_km2_s2 * 1e-3])
        self._steps = np.array([s.predictor_step_s, s.predictor_coast_step_s])
        self._steps_vertical = self._steps * np.array([4.0, 1.0])   # lateral prediction: 4x steps
        self._limits = np.array([s.sensible_atmosphere_km * 1e3, s.terminal_altitude_km * 1e3,
                                 s.max_flight_s, s.final_phase_end_speed_m_s])
        r_f = self.model.planet[2] + s.terminal_altitude_km * 1e3
        self._e_f = self.model.planet[0] / r_f - 0.5 * s.terminal_speed_m_s ** 2
        self._sigma_f = np.radians(s.sigma_final_deg)
        self._vehicle = self.model.vehicle.copy()          # [mass, area, estimated L/D]
        self._memo = {}                                    # this cycle's predictions by σ0
        self._e_solved = np.nan                            # energy of the last correction (J/kg)
        self._bank = np.nan                                # flown bank (rad) at this cycle
        self._slope = 0.0                                  # last d(miss)/dσ0 (m/rad); 0: none
        self._first = True                                 # NaN: trimmed at the first command
        self._solved = ("", np.nan)                        # (phase, σ0 (rad)) of the last solve
        self._drift = 0.0                                  # σ0 change between the last two solves
        self._atmosphere = self.model.atmosphere           # the predictor's atmosphere arguments

    def miss(self, x: np.ndarray, sigma0: float, vertical: bool = False
             ) -> tuple[float, float, float, int, float]:
        """Predicted (miss (m), time to terminal (s), peak aero accel (m/s²), status,
        crossrange (m)) for σ0 (rad): :func:`predict`, with the lateral logic from the current
        sign, or the lift in the vertical plane only (``vertical``)."""
        key = (x.tobytes(), float(sigma0), vertical, self.sign, self.reversals_left, self._bank,
               self.drag_ratio, self._vehicle[2])
        if key not in self._memo:
            m = self.model
            self.calls += 1
            c = self._corridor
            lateral = np.array([c[0], c[1], c[2], 0.0 if vertical else self.sign,
                                self.reversals_left, self._bank, m.bank_rate], dtype=float)
            self._memo[key] = predict(x, sigma0, self._sigma_f, self._e_f, self.aim_itrf, lateral,
                                      self._steps_vertical if vertical else self._steps,
                                      self._limits, m.planet, self._vehicle,
                                      m.mach_nodes, m.cd_nodes, *self._atmosphere, self.drag_ratio)
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

        The fading-memory filters of the module docstring: the drag ratio (density × Cd·S/m
        dispersions together) against the nominal vehicle in the forecast at ``x``, and the
        lift-to-drag ratio, updated only when the sensed load exceeds ``estimator_min_g``.
        """
        s, m = self.settings, self.model
        if math.sqrt(sensed @ sensed) < s.estimator_min_g * G0:
            return
        u = x[3:] / math.sqrt(x[3:] @ x[3:])
        drag = -sensed @ u
        lift_vector = sensed + drag * u
        lift = math.sqrt(lift_vector @ lift_vector)
        model = np.empty(3)
        model_aero(x, bank, m.vehicle, m.mach_nodes, m.cd_nodes, m.planet, *m.atmosphere, 1.0,
                   model)
        k = s.estimator_gain
        self.drag_ratio += k * (drag / max(-model @ u, 1e-12) - self.drag_ratio)
        self._vehicle[2] += k * (lift / drag - self._vehicle[2])

    def solve(self, x: np.ndarray, phase: str) -> tuple[float, float]:
        """σ0 (rad) nulling the downrange miss, and that miss (m); raises GuidanceFailure.

        Secant steps from the last solution first (Lu 2014 §IV.B: one or two per cycle suffice
        once converged), moved by the change between the last two solutions of the phase (the
        solution drifts steadily through a pass: over six ``chang-e-5-entry`` dispersed samples
        this start is within the miss tolerance on 54 % of the cycles instead of 38 %), the
        first step along the last cycle's slope d(miss)/dσ0, stopping when |miss| <
        ``miss_tolerance_km``; once two steps straddle the root, brentq between them (stopped by
        the same rule); a bracketing scan over the whole range when the secant leaves the bounds
        or stalls.
        """
        s = self.settings
        lo, hi = np.radians(s.sigma_min_deg), np.radians(s.sigma_max_deg)
        tol, xtol = s.miss_tolerance_km * 1e3, np.radians(s.tolerance_deg)
        f = lambda sig: self.miss(x, sig)[0]                          # noqa: E731
        s0 = min(hi, max(lo, self.sigma0 + self._drift))      # the solution's trend carried on
        f0 = f(s0)
        if abs(f0) < tol:
            return s0, f0
        if self._slope < 0.0:                       # Newton step on the last cycle's slope
            step = min(np.radians(10.0), max(-np.radians(10.0), -f0 / self._slope))
        else:                                       # overshoot: bank more
            step = np.copysign(np.radians(1.0), f0)
        s1 = min(hi, max(lo, s0 + step))
        for _ in range(6):
            f1 = f(s1) if s1 != s0 else f0
            if s1 == s0 or abs(f1) >= BIG_MISS:
                break
            self._slope = (f1 - f0) / (s1 - s0)
            if abs(f1) < tol:
                return s1, f1
            if (f1 > 0.0) != (f0 > 0.0):           # straddled: the root is between
                return _root(f, min(s0, s1), max(s0, s1), xtol, tol)
            s0, f0, s1 = s1, f1, s1 - f1 / self._slope
            if not lo <= s1 <= hi or self._slope >= 0.0:
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
        return _root(f, grid[k], grid[k + 1], np.radians(s.tolerance_deg),
                     s.miss_tolerance_km * 1e3)

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
        self._bank = np.nan if self._first else float(bank)   # the flown bank (rad)
        failure, miss, limited = None, np.nan, False
        if correct:
            try:
                self.sigma0, miss = self.solve(x, phase)
                solved = (phase, self.sigma0)
                self._drift = solved[1] - self._solved[1] if phase == self._solved[0] else 0.0
                self._solved = solved
            except GuidanceFailure as exc:
                self._drift, self._solved = 0.0, ("", np.nan)
                failure = exc
                self.sigma0 = self.best_effort(x)
            self.sigma0, limited = self.limit_load(x, self.sigma0)
            if limited:
                miss = self.miss(x, self.sigma0)[0]
            self._e_solved = energy(x, self.model.planet[0])
        magnitude = self._magnitude(x)
        speed = math.sqrt(x[3:] @ x[3:])
        if speed > self.settings.predicted_lateral_speed_m_s:   # the target from the landing
            z = -self.miss(x, magnitude, vertical=True)[4] / R_MEAN   # predicted in-plane
        else:                                                     # ... from the plane
            z = plane_offset(x, self.aim_itrf)
        sign, self.reversals_left, flipped = reversal(z, speed, self.sign, self.reversals_left,
                                                      self._corridor)
        self.sign, self._first = sign, False
        return GuidanceCommand(sign * magnitude, self.sigma0, miss, flipped, failure, limited)

    def _magnitude(self, x: np.ndarray) -> float:
        """|σ| (rad) of the last solved profile at the energy of ``x`` (σ0 right after a solve).

        Without corrections (final phase) the capsule keeps flying the last predicted plan,
        σ(e) of Lu 2014 eq. 27 from the energy of that solution, rather than a frozen σ0.
        """
        if np.isnan(self._e_solved) or self._e_f == self._e_solved:
            return self.sigma0
        frac = (energy(x, self.model.planet[0]) - self._e_solved) / (self._e_f - self._e_solved)
        return self.sigma0 + (self._sigma_f - self.sigma0) * min(1.0, max(0.0, frac))
