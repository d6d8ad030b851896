"""The entry guidance's predictor: the capsule flown from a state to the drogue altitude in the
guidance's own models, compiled.

:func:`predict` integrates the same 3-DOF dynamics and RK4 step as the simulation
(:mod:`guanghan.dynamics.entry_kernels`) with the bank magnitude linear in the energy-like
variable e = μ/r − V²/2 (FNPEG, Lu 2014, eq. 27), |σ(e)| = σ0 + (σf − σ0)(e − e0)/(ef − e0),
evaluated at each step's mid-energy (extrapolated from the last step: without it the bank lags
the energy by half a step, and the predicted range of a skip from the interface moved by 50 km
between 1 s and 2 s steps; with it, by 0.5 km), and reports where the capsule comes down: the
miss along the great circle from the current position to the aim point, the terminal point's
crossrange from that circle, the flight time and the peak load of the current atmospheric pass.
:mod:`guanghan.gnc.entry_guidance` solves for σ0 and steers the bank's sign from the crossrange.

The guidance's models (:class:`GuidanceModel`): the nominal vehicle, with the drag ratio and L/D
its estimator gives (:meth:`guanghan.gnc.entry_guidance.EntryGuidance.estimate`), its roll rate,
and its on-board atmosphere: NRLMSIS 2.1 at stations along the great circle from the entry
interface to the target, the forecast the ground computes for the entry day and loads before
entry (:class:`~guanghan.environment.atmosphere.AtmosphereTrack`, re-interpolated at the
predicted position every RK4 step as the truth is, :mod:`guanghan.dynamics.entry_track_kernels`);
a single averaged profile is a one-station track.

Two ways to fly the lift (``lateral[3]``):
    * as the guidance will (sign ±1): the full lift at the bank sign·|σ(e)|, the sign reversed by
      the guidance's corridor test on the plane of motion, the capsule rolling to each command at
      its rate through lift-up, the bank held below the cut-off speed. The corrector nulls this
      prediction's miss. Two events inside a step are placed, not rounded to the step: a reversal
      ends its step where the corridor test's excess (continuous in the state,
      :func:`corridor_excess`) crosses zero, interpolated linearly over the step, and a roll that
      ends within a step flies the step's time-mean lift direction (:func:`roll_mean`). Rounded
      to steps, both were first-order errors: over the 959 predictions of one dispersed
      ``chang-e-5-entry`` sample the predicted miss at 2-s steps was median 1.9 km (p90 95 km)
      from a 0.25-s-step prediction; placed, 47 m (p90 1.4 km), and 81 m (p90 4.1 km) at 4-s
      steps, or 0.01° (p90 0.06°) of σ0 at the miss's slope.
    * in the vertical plane only (sign 0): L·cos σ(e), the mean of the reversals, which are not
      placed. The terminal point is then where the capsule comes down if it stops steering
      sideways now, and the target's offset from it is what the lateral logic keeps inside its
      corridor at high speed: Apollo's LATANG (the target's angle out of the current plane of
      motion) carried along the predicted trajectory, so that it includes what the plane does by
      itself on the way — chiefly the Coriolis turn of the Earth-relative velocity during a skip,
      which on the chained Chang'e-5 return (5 min above 100 km at 7.2 km/s) moves the predicted
      landing ~150 km off a plane that points at the target at the interface.

Assumptions and limitations
    * The reversals placed in a prediction come from the plane-of-motion test at every speed (the
      flight uses the predicted landing above VMIN); they shape the predicted range only through
      the path's curvature.
    * The drag ratio and L/D estimates are constant over the prediction, in both atmospheric
      passes of a skip: the forecast carries the along-track and altitude structure, the ratio
      what the forecast and the vehicle model get wrong uniformly.

Compiled with numba's numpy error model, as :mod:`guanghan.dynamics.entry_kernels` (reason there).

References
    * Lu, P. (2014), "Entry guidance: a unified method", J. Guid. Control Dyn. 37(3), 713-728.
    * Apollo 11 command-module program Colossus 2A (Comanche 055), REENTRY_CONTROL.agc,
      routine TARGETNG: UNI = UNIT(V × R), LATANG = RT·UNI, for the lateral measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from guanghan.dynamics.entry_kernels import height
from guanghan.dynamics.entry_track_kernels import aero_track, rk4_step_track
from guanghan.environment.atmosphere import AtmosphereTrack
from guanghan.environment.constants import EARTH_MEAN_RADIUS as R_MEAN

BIG_MISS = 1.0e8            # miss (m) reported when the predictor does not reach the terminal


@dataclass(frozen=True)
class GuidanceModel:
    """The guidance's own knowledge, as kernel arrays (SI): the planet (:func:`planet_array`), the
    nominal vehicle (``[mass, area, L/D]`` and its Cd(Mach) table) and the on-board atmosphere
    (an :class:`AtmosphereTrack`'s arrays)."""

    planet: np.ndarray
    vehicle: np.ndarray
    mach_nodes: np.ndarray
    cd_nodes: np.ndarray
    altitude0: float
    step: float
    theta: np.ndarray
    start: np.ndarray
    normal: np.ndarray
    log_density: np.ndarray          # (n_stations, n_alt)
    sound_speed: np.ndarray          # (n_stations, n_alt)
    bank_rate: float = 0.0           # rad/s the capsule rolls at; 0: instantaneous

    @classmethod
    def build(cls, planet: np.ndarray, vehicle_arrays, atmosphere: AtmosphereTrack,
              bank_rate: float = 0.0) -> "GuidanceModel":
        """From :meth:`EntryVehicle.arrays`, the on-board atmosphere and the roll rate (rad/s)."""
        a = atmosphere
        return cls(planet, *vehicle_arrays, a.altitude0, a.step, a.theta, a.start, a.normal,
                   a.log_density, a.sound_speed, bank_rate)

    @property
    def atmosphere(self) -> tuple:
        """The atmosphere arguments of :func:`predict` and :func:`model_aero`."""
        return (self.altitude0, self.step, self.theta, self.start, self.normal, self.log_density,
                self.sound_speed)


@njit(cache=True, error_model="numpy")
def energy(x, mu):
    """e = μ/r − V²/2 (J/kg) of the Earth-fixed state ``x``."""
    rn = np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    return mu / rn - 0.5 * (x[3] * x[3] + x[4] * x[4] + x[5] * x[5])


@njit(cache=True, error_model="numpy")
def track_frame(x0, aim):
    """(p0, q, θ_aim): unit position, in-plane normal and aim angle (rad) of the great circle
    from ``x0`` to the unit vector ``aim``."""
    p0 = x0[:3] / np.sqrt(x0[0] ** 2 + x0[1] ** 2 + x0[2] ** 2)
    n = np.cross(p0, aim)
    n = n / np.sqrt(n[0] ** 2 + n[1] ** 2 + n[2] ** 2)
    q = np.cross(n, p0)
    return p0, q, np.arctan2(q @ aim, p0 @ aim)


@njit(cache=True, error_model="numpy")
def track_angle(x, p0, q, previous):
    """Along-track angle (rad) of ``x`` on the track frame, unwrapped next to ``previous``."""
    theta = np.arctan2(q[0] * x[0] + q[1] * x[1] + q[2] * x[2],
                       p0[0] * x[0] + p0[1] * x[1] + p0[2] * x[2])
    return previous + (theta - previous + np.pi) % (2.0 * np.pi) - np.pi


@njit(cache=True, error_model="numpy")
def cross_angle(x, p0, q):
    """Angle (rad) of ``x`` out of the track frame's great circle, + to the left (along p0 × q)."""
    nx = p0[1] * q[2] - p0[2] * q[1]
    ny = p0[2] * q[0] - p0[0] * q[2]
    nz = p0[0] * q[1] - p0[1] * q[0]
    rn = np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    return np.arcsin(min(1.0, max(-1.0, (nx * x[0] + ny * x[1] + nz * x[2]) / rn)))


@njit(cache=True, error_model="numpy")
def plane_offset(x, aim):
    """Angle (rad) of the unit vector ``aim`` out of the plane of relative motion, + to the left."""
    hx = x[1] * x[5] - x[2] * x[4]
    hy = x[2] * x[3] - x[0] * x[5]
    hz = x[0] * x[4] - x[1] * x[3]
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    return np.arcsin(min(1.0, max(-1.0, (hx * aim[0] + hy * aim[1] + hz * aim[2]) / hn)))


@njit(cache=True, error_model="numpy")
def reversal(z, speed, sign, reversals_left, corridor):
    """Bank sign after the corridor test on the target's offset ``z`` (rad, + to the left) at
    relative ``speed`` (m/s), ``corridor = [c0 (m), c1 (s), c2 (s²/m)]``; returns (sign,
    reversals_left, reversed?)."""
    limit = (corridor[0] + (corridor[1] + corridor[2] * speed) * speed) / R_MEAN
    wanted = -1.0 if z > 0.0 else 1.0                     # target on the left: bank left (σ < 0)
    if abs(z) > limit and sign != wanted and reversals_left > 0:
        return wanted, reversals_left - 1, True
    return sign, reversals_left, False


@njit(cache=True, error_model="numpy")
def model_aero(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, theta, start, normal,
               logrho_table, sound_table, scale, out):
    """Lift + drag acceleration (m/s²) at ``x`` in the guidance's atmosphere, into ``out``."""
    aero_track(x, bank, vehicle, mach_nodes, cd_nodes, planet, h0, dh, theta, start, normal,
               logrho_table, sound_table, scale, out)


@njit(cache=True, error_model="numpy")
def corridor_excess(x, aim, sign, corridor):
    """How far the target is outside the crossrange corridor on the side the bank ``sign`` steers
    away from, as sign·sin z − sin(limit) (z and the limit as in :func:`reversal`): > 0 exactly
    when :func:`reversal` reverses, and continuous in the state, so the predictor can place the
    reversal inside a step. Returns (excess, sin(limit))."""
    hx = x[1] * x[5] - x[2] * x[4]
    hy = x[2] * x[3] - x[0] * x[5]
    hz = x[0] * x[4] - x[1] * x[3]
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    speed = np.sqrt(x[3] * x[3] + x[4] * x[4] + x[5] * x[5])
    sin_limit = np.sin((corridor[0] + (corridor[1] + corridor[2] * speed) * speed) / R_MEAN)
    return sign * (hx * aim[0] + hy * aim[1] + hz * aim[2]) / hn - sin_limit, sin_limit


@njit(cache=True, error_model="numpy")
def profile_bank(e, e_last, dt_last, dt, e0, e_f, sigma0, sigma_f):
    """|σ| (rad) of the energy-linear profile (Lu 2014 eq. 27) at the mid-energy of a step of
    ``dt`` (s) from energy ``e``, extrapolated from the last step (``e_last``, ``dt_last``)."""
    e_mid = e + 0.5 * dt * (e - e_last) / dt_last if dt_last > 0.0 else e
    frac = min(1.0, max(0.0, (e_mid - e0) / (e_f - e0))) if e_f != e0 else 1.0
    return sigma0 + (sigma_f - sigma0) * frac


@njit(cache=True, error_model="numpy")
def roll_mean(bank, target, rate, dt):
    """(bank (rad), lift fraction, end bank (rad)) of a step of ``dt`` (s) in which the capsule
    rolls from ``bank`` towards ``target`` at ``rate`` (rad/s; 0: instantaneous) and then holds:
    the time mean of the lift's direction (cos σ, sin σ) over the step, as a bank and the length
    of that mean (< 1 while rolling), so a step's lift is exact to first order in time however
    the roll ends within it. The mean over a sweep of 2a about m is sinc(a)·(cos m, sin m)."""
    d = target - bank
    if rate <= 0.0 or d == 0.0:
        return target, 1.0, target
    tau = min(dt, abs(d) / rate)                     # s spent rolling
    end = target if abs(d) <= rate * dt else bank + np.copysign(rate * dt, d)
    mid = 0.5 * (bank + end)
    if abs(d) < 1e-3:       # a profile's drift: the angles' mean (length 1 to within d²/24)
        return (tau * mid + (dt - tau) * end) / dt, 1.0, end
    half = 0.5 * abs(end - bank)
    k = tau * np.sin(half) / half
    if tau == dt:
        return mid, k / dt, end
    c = (k * np.cos(mid) + (dt - tau) * np.cos(end)) / dt
    s = (k * np.sin(mid) + (dt - tau) * np.sin(end)) / dt
    return np.arctan2(s, c), np.sqrt(c * c + s * s), end


@njit(cache=True, error_model="numpy")
def _step(x, dt, sign, sigma, bank, rate, vehicle, vertical, planet, mach_nodes, cd_nodes, h0,
          dh, theta, start, normal, logrho_table, sound_table, scale, work, xn):
    """One predictor RK4 step of ``dt`` (s) from ``x`` into ``xn`` with the profile's |σ| =
    ``sigma``: sign 0, the lift in the vertical plane (L·cos σ); ±1, rolling from ``bank`` to
    sign·σ at ``rate``. Returns the bank (rad) at the step's end and |lift + drag| (m/s²) of
    the vehicle ``vehicle`` at ``x`` (from the first stage: |L + D| = D·√(1 + (L/D)²) whatever
    the bank; 0 for an empty step)."""
    if dt <= 0.0:
        xn[:] = x
        return bank, 0.0
    if sign == 0.0:                                  # the reversals' mean: vertical lift
        vertical[2], flown, end = vehicle[2] * np.cos(sigma), 0.0, bank
    else:                                            # rolling to the command at the rate
        flown, lift, end = roll_mean(bank, sign * sigma, rate, dt)
        vertical[2] = vehicle[2] * lift
    aero = rk4_step_track(x, flown, dt, planet, vertical, mach_nodes, cd_nodes, h0, dh, theta,
                          start, normal, logrho_table, sound_table, scale, work, xn)
    return end, aero * np.sqrt((1.0 + vehicle[2] * vehicle[2]) /
                               (1.0 + vertical[2] * vertical[2]))


@njit(cache=True, error_model="numpy")
def predict(x0, sigma0, sigma_f, e_f, aim, lateral, steps, limits, planet, vehicle, mach_nodes,
            cd_nodes, h0, dh, theta, start, normal, logrho_table, sound_table, scale):
    """Predicted (miss (m), flight time (s), peak aero acceleration (m/s²), status, crossrange
    (m)) from ``x0`` with the profile parameter ``sigma0`` (rad).

    Miss is along the great circle from ``x0`` to the unit vector ``aim`` (+ long); crossrange is
    the terminal point's distance from that circle (+ left), so the target lies −crossrange from
    the predicted landing. ``lateral = [c0 (m), c1 (s), c2 (s²/m), sign, reversals left, bank
    (rad; NaN: trimmed at the first command), roll rate (rad/s; 0: instantaneous)]``: sign ±1
    flies the lift as the guidance will, 0 in the vertical plane only (module docstring). The peak
    (|L + D|) is that of the current atmospheric pass: it stops being updated once the predicted
    flight climbs above the sensible atmosphere (a skip), whose next pass the guidance handles
    when it gets there.

    ``steps = [dt in atmosphere, dt in coast]`` (s); ``limits = [sensible-atmosphere altitude,
    terminal altitude, max flight time, guidance cut-off speed]`` (m, m, s, m/s): below the
    cut-off speed the bank magnitude is held as the flight holds it. ``vehicle = [mass, area,
    L/D]`` (the estimated L/D), ``scale`` the estimated drag ratio. Status 0: terminal altitude
    reached; 1: flight time exceeded; 2: escaping (e < 0 and climbing above the atmosphere).
    """
    mu = planet[0]
    e0 = energy(x0, mu)
    x = x0.copy()
    xn = np.empty(6)
    work = np.empty((6, 6))
    vertical = vehicle.copy()                          # [mass, area, L/D·cos σ]
    t, peak = 0.0, 0.0
    h = height(x, planet[6], planet[7])
    in_pass, inside = True, h <= limits[0]            # current atmospheric pass; been inside it
    p0, q, theta_aim = track_frame(x0, aim)
    angle = 0.0
    held, sigma = False, sigma0
    e_last, dt_last = e0, 0.0
    sign, rev_left, bank, rate = lateral[3], int(lateral[4]), lateral[5], lateral[6]
    corridor = lateral[:3]
    g0, sin_limit = np.nan, 0.0                       # the corridor test at x (NaN: not made)
    count = False                                     # the load at x counts towards the peak
    while t < limits[2]:
        e = energy(x, mu)
        held = held or x[3] * x[3] + x[4] * x[4] + x[5] * x[5] < limits[3] * limits[3]
        climbing = x[0] * x[3] + x[1] * x[4] + x[2] * x[5] > 0.0
        watch = False
        if h > limits[0]:
            if climbing and e < 0.0:
                return BIG_MISS, t, peak, 2, 0.0
            if climbing and inside:
                in_pass = False
            dt = steps[1]
        else:
            dt = steps[0]
            if sign != 0.0 and not held:        # the corridor test (see reversal)
                if np.isnan(g0):
                    g0, sin_limit = corridor_excess(x, aim, sign, corridor)
                if g0 > 0.0 and rev_left > 0:
                    sign, rev_left, g0 = -sign, rev_left - 1, -(g0 + sin_limit) - sin_limit
                watch = rev_left > 0
        if not held:
            sigma = profile_bank(e, e_last, dt_last, dt, e0, e_f, sigma0, sigma_f)
        if sign != 0.0 and np.isnan(bank):             # trimmed at the first command
            bank = sign * sigma
        end, load = _step(x, dt, sign, sigma, bank, rate, vehicle, vertical, planet, mach_nodes,
                          cd_nodes, h0, dh, theta, start, normal, logrho_table, sound_table, scale,
                          work, xn)
        if count:           # x is in the pass and below the sensible atmosphere: its load counts
            peak = max(peak, load)
        g_next = np.nan                                # the corridor test at the step's end
        if watch:
            g1, sin_limit_1 = corridor_excess(xn, aim, sign, corridor)
            if g1 > 0.0:    # the corridor is left within the step: end the step there, reverse
                dt *= g0 / (g0 - g1)
                if not held:
                    sigma = profile_bank(e, e_last, dt_last, dt, e0, e_f, sigma0, sigma_f)
                end, _ = _step(x, dt, sign, sigma, bank, rate, vehicle, vertical, planet,
                               mach_nodes, cd_nodes, h0, dh, theta, start, normal, logrho_table,
                               sound_table, scale, work, xn)
                sign, rev_left = -sign, rev_left - 1
            else:
                g_next, sin_limit = g1, sin_limit_1
        g0 = g_next
        bank = end
        e_last, dt_last = e, dt
        hn = height(xn, planet[6], planet[7])
        t += dt
        if hn <= limits[1]:
            w = (h - limits[1]) / (h - hn)                             # interpolate to h_stop
            for i in range(6):
                xn[i] = x[i] + w * (xn[i] - x[i])
            angle = track_angle(xn, p0, q, angle)
            return (R_MEAN * (angle - theta_aim), t - (1.0 - w) * dt, peak, 0,
                    R_MEAN * cross_angle(xn, p0, q))
        x[:] = xn
        angle = track_angle(x, p0, q, angle)
        h = hn
        inside = inside or h <= limits[0]
        count = h < limits[0] and in_pass             # its load is read by the next step
    return BIG_MISS, t, peak, 1, 0.0
