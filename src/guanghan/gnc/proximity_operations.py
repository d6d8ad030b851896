"""Close-range rendezvous from the hand-over point to capture, flown on the truth with the
relative-navigation filter in the loop. All guidance is in the target's Hill frame
(:mod:`guanghan.gnc.relative_navigation`), on the filter's estimate.

1. Drift, then a CW two-impulse transfer to the first holding point (Curtis 2020 §7.5) lasting
   ``transfer_time_s``, re-targeted at ``midcourse_corrections`` equally spaced epochs; the
   drift (free coasting, e.g. the coelliptic drift of a lower orbit) is the one, on a 30 s grid
   up to ``max_drift_s``, of least CW Δv (both impulses).
2. Holds: every ``hold_pulse_interval_s`` a CW hop back to the holding point.
3. Between holding points, the inbound glideslope of Hablani, Tapper & Dana-Bashian (2002): the
   distance to go ρ along the approach axis obeys ρ̇ = a ρ + ρ̇_T, a = (ρ̇_0 − ρ̇_T)/ρ_0, so
   ρ(t) = ρ_0 e^{at} + (ρ̇_T/a)(e^{at} − 1), reaching 0 after T = ln(ρ̇_T/ρ̇_0)/a; N pulses at
   intervals T/N, each a CW targeting of the next waypoint. Given T (``glideslope_time_s``)
   and ρ̇_T/ρ̇_0 (``glideslope_speed_ratio``): a = ln(ratio)/T, ρ̇_0 = a ρ_0/(1 − ratio).
4. Final approach from the last holding point along V-bar ("behind"/"ahead") or R-bar
   ("below"/"above") at ``final_approach_speed_m_s``: CW targeting of the next point of the
   straight line every ``final_pulse_interval_s``, the last to the origin (interfaces meet).
5. Capture at contact (along-axis distance zero): closing speed, lateral offset from the axis
   and relative attitude (each vehicle's attitude error drawn with ``attitude_sigma_deg`` per
   axis) against the capture tolerances.

Thrusters: the commanded Δv is split along the Hill axes; each axis fires for m|Δv_i|/F (an
impulse below half the minimum impulse bit is dropped, one below it raised to it), with a
thrust-magnitude and a pointing error drawn per pulse; the thrust turns with the Hill frame.

Truth: both vehicles in two-body motion about the Moon — Kepler (:func:`kepler_universal`) while
coasting, RK4 steps of ≤ 1 s with thrust and mass flow while firing
(:mod:`guanghan.dynamics.thruster_firings`) — and the relative state by
exact kinematics: the full nonlinear relative motion in a point-mass field.

Assumptions and limitations
    * Two-body truth: the field's differential acceleration (J2, mascons; of order 1e-7 to
      1e-6 m/s² per km of separation at 200 km) is not modelled.
    * Attitude held in the Hill frame; its error enters only the capture check. No plume
      impingement, collision-avoidance manoeuvres or passive-safety checks.
    * Contact is interpolated linearly within a navigation step (millimetres at ~0.1 m/s).

References
    Hablani, H. B., Tapper, M. L. & Dana-Bashian, D. J. (2002), "Guidance and relative
    navigation for autonomous rendezvous in a circular orbit", J. Guid. Control Dyn. 25(3),
    553–562 (inbound glideslope, CW targeting of the pulses).
    Clohessy, W. H. & Wiltshire, R. S. (1960), J. Aerospace Sci. 27(9), 653–658.
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), §7.5.
    Fehse, W., *Automated Rendezvous and Docking of Spacecraft* (2003), ch. 5 (holding points,
    V-bar and R-bar approaches), ch. 8 (contact and capture conditions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.kepler import kepler_universal
from guanghan.dynamics.state import SpacecraftState
from guanghan.dynamics.thruster_firings import Firing, chaser_step
from guanghan.environment import spice_kernels
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.errors import InputError
from guanghan.gnc import relative_navigation as rn

_AXES = {"behind": (0.0, -1.0, 0.0), "ahead": (0.0, 1.0, 0.0), "below": (-1.0, 0.0, 0.0),
         "above": (1.0, 0.0, 0.0)}


class Thrusters(ConfigModel):
    """Translation thrusters along each Hill axis: thrust (N), Isp (s), minimum impulse bit
    (N s) and 1σ execution errors."""

    thrust_n: float = Field(default=150.0, gt=0, le=1e4)
    isp_s: float = Field(default=220.0, ge=1, le=1e4)
    min_impulse_bit_n_s: float = Field(default=0.5, gt=0, le=1e3)
    thrust_sigma_pct: float = Field(default=1.0, ge=0, le=20)
    pointing_sigma_deg: float = Field(default=0.5, ge=0, le=10)


class CaptureTolerances(ConfigModel):
    """Contact conditions the capture mechanism accepts."""

    closing_speed_min_m_s: float = Field(default=0.02, ge=0, le=10)
    closing_speed_max_m_s: float = Field(default=0.3, gt=0, le=10)
    lateral_offset_max_m: float = Field(default=0.1, gt=0, le=100)
    relative_attitude_max_deg: float = Field(default=3.0, gt=0, le=90)

    @model_validator(mode="after")
    def _window(self):
        if self.closing_speed_min_m_s >= self.closing_speed_max_m_s:
            fail(f"must be below closing_speed_max_m_s = {self.closing_speed_max_m_s}",
                 "closing_speed_min_m_s", self.closing_speed_min_m_s)
        return self


class ProximityPlan(ConfigModel):
    """The close-range approach: axis, holding points, glideslopes, final approach, capture."""

    approach: Literal["behind", "ahead", "below", "above"] = "behind"
    holding_distances_m: list[float] = Field(default_factory=lambda: [5000.0, 1000.0, 100.0, 10.0],
                                             min_length=1, max_length=10)
    hold_s: float = Field(default=600.0, ge=0, le=86400)
    hold_pulse_interval_s: float = Field(default=300.0, ge=10, le=86400, description=(
        "time between the station-keeping hops at a holding point (s): 10 s to 1 day (a hop is a "
        "thruster pulse and its settling; shorter intervals only multiply the pulses)"))
    max_drift_s: float = Field(default=7200.0, ge=0, le=86400)
    transfer_time_s: float = Field(default=3600.0, gt=0, le=86400)
    midcourse_corrections: int = Field(default=2, ge=0, le=20)
    glideslope_time_s: float = Field(default=2400.0, gt=0, le=86400)
    glideslope_speed_ratio: float = Field(default=0.2, gt=0, lt=1)
    glideslope_pulses: int = Field(default=8, ge=1, le=200)
    final_approach_speed_m_s: float = Field(default=0.1, gt=0, le=10)
    final_pulse_interval_s: float = Field(default=10.0, gt=0, le=3600)
    attitude_sigma_deg: float = Field(default=0.2, ge=0, le=30)
    max_duration_s: float = Field(default=86400.0, gt=0, le=864000)
    capture: CaptureTolerances = Field(default_factory=CaptureTolerances)

    @model_validator(mode="after")
    def _holds(self):
        d = self.holding_distances_m
        if any(x <= 0 for x in d) or any(b >= a for a, b in pairwise(d)):
            fail("holding distances must be positive and strictly decreasing", "holding_distances_m", d)
        return self


@dataclass(frozen=True)
class ProximityEvent:
    """A named event at ``t_s`` (s after the hand-over) and the true range then (m)."""

    name: str
    t_s: float
    range_m: float


@dataclass
class ProximityResult:
    """Series (t_s (k,) s after the hand-over; Hill-frame [ρ (m), ρ̇ (m/s)] true and estimated and
    the filter's 3σ, (k, 6); true range (m), range-rate (m/s)); events; contact figures (closing
    speed m/s, lateral offset m, relative attitude deg); executed Δv (m/s); propellant (kg)."""

    t_s: np.ndarray
    rel_true: np.ndarray
    rel_est: np.ndarray
    sigma3: np.ndarray
    range_m: np.ndarray
    range_rate_m_s: np.ndarray
    events: list[ProximityEvent]
    success: bool
    failure_reason: str | None
    capture_speed_m_s: float | None = None
    capture_lateral_m: float | None = None
    capture_attitude_deg: float | None = None
    delta_v_m_s: float = 0.0
    propellant_kg: float = 0.0
    pulses: int = 0
    figures: dict = field(default_factory=dict)

    @property
    def nav_error(self) -> np.ndarray:
        return self.rel_est - self.rel_true


def _axis(plan: ProximityPlan) -> np.ndarray:
    """Unit vector (Hill frame) from the target towards the side the chaser approaches from."""
    return np.array(_AXES[plan.approach])


def glideslope_profile(rho0_m: float, t_s: np.ndarray, time_s: float, speed_ratio: float):
    """Distance (m) still to go at times ``t_s`` on Hablani et al.'s (2002) inbound glideslope
    from ``rho0_m`` in ``time_s``: ρ(t) = ρ0 e^{at} + (ρ̇_T/a)(e^{at} − 1), a = ln(ratio)/T,
    ρ̇_0 = a ρ0/(1 − ratio), ρ̇_T = ratio ρ̇_0."""
    a = math.log(speed_ratio) / time_s
    rate_t = speed_ratio * a * rho0_m / (1.0 - speed_ratio)
    e = np.exp(a * np.asarray(t_s, float))
    return rho0_m * e + rate_t / a * (e - 1.0)


def best_drift_s(rel: np.ndarray, n: float, plan: ProximityPlan, axis: np.ndarray) -> float:
    """Coasting time (s, 30 s grid up to ``max_drift_s``) after which the CW two-impulse transfer
    to the first holding point costs the least Δv (departure plus arrival)."""
    T, aim = plan.transfer_time_s, axis * plan.holding_distances_m[0]
    phi_t = rn.cw_matrix(n, T)
    best = (math.inf, 0.0)
    for drift in np.arange(0.0, plan.max_drift_s + 1.0, 30.0):
        x = rn.cw_matrix(n, drift) @ rel
        v = rn.cw_targeting_velocity(x[:3], aim, n, T, x[3:])
        cost = float(np.linalg.norm(v - x[3:]) + np.linalg.norm((phi_t @ np.concatenate([x[:3], v]))[3:]))
        best = min(best, (cost, float(drift)))
    return best[1]


def _schedule(plan: ProximityPlan, axis: np.ndarray, drift_s: float):
    """(pulses [(epoch, aim epoch, aim position)], planned events [(name, epoch)], contact epoch),
    epochs in s from the hand-over, positions (m) in the Hill frame."""
    pulses, events = [], [("hand_over", 0.0), ("transfer_start", drift_s)]
    d = plan.holding_distances_m
    T = plan.transfer_time_s
    for k in range(plan.midcourse_corrections + 1):
        pulses.append((drift_s + k * T / (plan.midcourse_corrections + 1), drift_s + T, axis * d[0]))
    t = drift_s + T
    for i, dist in enumerate(d):
        events.append((f"holding_point_{i + 1}_{dist:g}m", t))
        n_hold = max(1, math.ceil(plan.hold_s / plan.hold_pulse_interval_s))
        for j in range(n_hold):
            pulses.append((t + j * plan.hold_pulse_interval_s, t + (j + 1) * plan.hold_pulse_interval_s,
                           axis * dist))
        t += n_hold * plan.hold_pulse_interval_s
        if i + 1 < len(d):                                   # glideslope to the next hold
            n, ts = plan.glideslope_pulses, plan.glideslope_time_s
            times = ts * np.arange(1, n + 1) / n
            togo = glideslope_profile(dist - d[i + 1], times, ts, plan.glideslope_speed_ratio)
            togo[-1] = 0.0
            pulses += [(t + times[m] - ts / n, t + times[m], axis * (d[i + 1] + togo[m])) for m in range(n)]
            t += ts
    events.append(("final_approach_start", t))
    dt_f = plan.final_pulse_interval_s
    t_contact = t + d[-1] / plan.final_approach_speed_m_s
    while t < t_contact - 1e-6:
        aim_t = min(t + dt_f, t_contact)
        pulses.append((t, aim_t, axis * d[-1] * (t_contact - aim_t) / (t_contact - events[-1][1])))
        t = aim_t
    return pulses, events, t_contact


def check_capture_feasible(plan: ProximityPlan, thrusters: Thrusters, sensor: rn.RelativeSensor,
                           nav: rn.RelativeNavConfig, mass_kg: float, n: float,
                           target_radius_m: float) -> float:
    """Refuse capture tolerances no approach can meet; return the predicted lateral 1σ (m) of the
    navigation at contact (covariance analysis along the nominal last hold and final approach)."""
    cap = plan.capture
    dv_min = thrusters.min_impulse_bit_n_s / mass_kg
    window = cap.closing_speed_max_m_s - cap.closing_speed_min_m_s
    if window < dv_min:
        raise InputError(f"the closing-speed window {window:.4f} m/s is narrower than the thrusters' "
                         f"speed resolution {dv_min:.4f} m/s (minimum impulse bit "
                         f"{thrusters.min_impulse_bit_n_s} N s / {mass_kg:.0f} kg): widen it",
                         quantity="capture.closing_speed_max_m_s", value=cap.closing_speed_max_m_s,
                         limit=cap.closing_speed_min_m_s + dv_min)
    v_f = plan.final_approach_speed_m_s
    if not cap.closing_speed_min_m_s + 0.5 * dv_min <= v_f <= cap.closing_speed_max_m_s - 0.5 * dv_min:
        raise InputError(f"the final approach speed must lie inside the closing-speed window "
                         f"[{cap.closing_speed_min_m_s}, {cap.closing_speed_max_m_s}] m/s by half the "
                         f"speed resolution ({0.5 * dv_min:.4f} m/s)",
                         quantity="final_approach_speed_m_s", value=v_f,
                         limit=(cap.closing_speed_min_m_s, cap.closing_speed_max_m_s))
    sigma_lat = rn.lateral_sigma_at_contact(_axis(plan), plan.holding_distances_m[-1], plan.hold_s, v_f,
                                            n, sensor, nav, target_radius_m)
    if cap.lateral_offset_max_m < 3.0 * sigma_lat:
        raise InputError(f"the lateral tolerance is below 3× the navigation's predicted lateral 1σ "
                         f"at contact ({sigma_lat:.4f} m)", quantity="capture.lateral_offset_max_m",
                         value=cap.lateral_offset_max_m, limit=3.0 * sigma_lat)
    rel_att = math.sqrt(2.0) * plan.attitude_sigma_deg
    if cap.relative_attitude_max_deg < 3.0 * rel_att:
        raise InputError(f"the relative-attitude tolerance is below 3× the per-axis 1σ of the relative "
                         f"attitude ({rel_att:.3f} deg)", quantity="capture.relative_attitude_max_deg",
                         value=cap.relative_attitude_max_deg, limit=3.0 * rel_att)
    return sigma_lat


def _firings(dv_hill: np.ndarray, t: float, mass: float, q_hill: np.ndarray, rate: float,
             thr: Thrusters, rng: np.random.Generator) -> list[Firing]:
    """Split a commanded Δv (m/s, Hill axes) into axis pulses, quantised by the minimum impulse
    bit, with a thrust-magnitude and a pointing error drawn for each pulse."""
    out = []
    sp, sa = thr.thrust_sigma_pct / 100.0, math.radians(thr.pointing_sigma_deg)
    for i in range(3):
        impulse = mass * abs(float(dv_hill[i]))
        if impulse < 0.5 * thr.min_impulse_bit_n_s:
            continue
        impulse = max(impulse, thr.min_impulse_bit_n_s)
        e = np.zeros(3)
        e[i] = math.copysign(1.0, float(dv_hill[i]))
        z = rng.standard_normal(4)
        tilt = q_hill.T @ (z[1:] * sa)                      # small rotation vector (rad), inertial
        u = q_hill.T @ e
        u = u + np.cross(tilt, u)
        force = thr.thrust_n * (1.0 + sp * z[0]) * u / np.linalg.norm(u)
        dv = impulse / mass
        var = np.full(3, (sa * dv) ** 2)
        var[i] = (sp * dv) ** 2
        duration = impulse / thr.thrust_n
        out.append(Firing(t, t + duration, force, thr.thrust_n * (1.0 + sp * z[0]) / (thr.isp_s * G0),
                           e * dv, var, q_hill[2], rate))
    return out


def _cut(f: Firing, t: float) -> Firing:
    """The firing stopped at ``t`` (s) if still on then."""
    if f.t1 <= t:
        return f
    frac = (t - f.t0) / (f.t1 - f.t0)
    return replace(f, t1=t, dv_cmd=f.dv_cmd * frac, dv_var=f.dv_var * frac)


def _step_dv(firings: list[Firing], t: float, dt: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Commanded Δv (m/s) and its variance falling in [t, t + dt], for the filter, and the
    (Δv-weighted) fraction of the step at which it acts."""
    dv, var, moment, weight = np.zeros(3), np.zeros(3), 0.0, 0.0
    for f in firings:
        a, b = max(f.t0, t), min(f.t1, t + dt)
        if b <= a:
            continue
        frac = (b - a) / (f.t1 - f.t0)
        dv += frac * f.dv_cmd
        var += frac * f.dv_var
        w = frac * float(np.linalg.norm(f.dv_cmd))
        moment, weight = moment + w * (0.5 * (a + b) - t), weight + w
    return dv, var, (moment / weight / dt if weight > 0 else 0.5)


def fly_proximity(chaser: SpacecraftState, target: SpacecraftState, plan: ProximityPlan,
                  thrusters: Thrusters, sensor: rn.RelativeSensor, nav: rn.RelativeNavConfig,
                  rng: np.random.Generator, mu: float | None = None) -> ProximityResult:
    """Fly the approach from the hand-over (``chaser``, ``target``: Moon-centred J2000 states at
    one epoch) to capture with the filter's estimate in the loop; ``mu`` (m³/s²) the Moon's GM of
    the two-body truth (default: the kernels' value)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng = {rng!r}: must be a numpy.random.Generator (seeded)")
    if chaser.et != target.et or chaser.frame != "J2000" or target.frame != "J2000":
        raise InputError("chaser and target must be J2000 states at the same epoch",
                         quantity="chaser.et", value=chaser.et, limit=target.et)
    mu = spice_kernels.gm("MOON") if mu is None else mu
    tgt = np.concatenate([target.r, target.v])
    y = chaser.vector.copy()
    n = rn.mean_motion(tgt, mu)
    r_t = float(np.linalg.norm(target.r))
    sigma_lat = check_capture_feasible(plan, thrusters, sensor, nav, chaser.mass, n, r_t)
    axis = _axis(plan)
    dt = 1.0 / sensor.rate_hz
    rel = rn.relative_state(tgt, y[:6])
    x, P = rn.initial_estimate(rel, nav, rng)
    pulses, planned, t_contact = _schedule(plan, axis, best_drift_s(x, n, plan, axis))
    biases = rn.draw_biases(sensor, rng)
    att = rng.standard_normal((2, 3)) * plan.attitude_sigma_deg
    rel_att_deg = float(np.linalg.norm(att[0] - att[1]))
    series: list[tuple] = []                    # (t, true, estimate, 3σ)
    events: list[ProximityEvent] = []
    firings: list[Firing] = []
    next_pulse, next_event = 0, 0
    t, dv_total, count = 0.0, 0.0, 0
    t_end = min(plan.max_duration_s, t_contact + 10.0 * max(plan.final_pulse_interval_s, dt))
    outcome = None
    while outcome is None:
        while next_event < len(planned) and planned[next_event][1] <= t + 1e-9:
            events.append(ProximityEvent(planned[next_event][0], t, float(np.linalg.norm(rel[:3]))))
            next_event += 1
        series.append((t, rel, x, 3.0 * np.sqrt(np.diag(P))))
        while next_pulse < len(pulses) and pulses[next_pulse][0] <= t + 1e-9:
            _, aim_t, aim_rho = pulses[next_pulse]
            next_pulse += 1
            if aim_t - t < 0.5 * dt:
                continue
            firings = [_cut(f, t) for f in firings if f.t0 < t]       # a new command supersedes
            dv_cmd = rn.cw_targeting_velocity(x[:3], aim_rho, n, aim_t - t, x[3:]) - x[3:]
            new = _firings(dv_cmd, t, y[6], rn.hill_axes(tgt[:3], tgt[3:]), n, thrusters, rng)
            firings += new
            count += len(new)
            dv_total += sum(float(np.linalg.norm(f.force)) * (f.t1 - f.t0) / y[6] for f in new)
        firings = [f for f in firings if f.t1 > t]
        dv, dv_var, dv_at = _step_dv(firings, t, dt)
        y = chaser_step(y, t, dt, firings, mu)
        tgt = np.concatenate(kepler_universal(tgt[:3], tgt[3:], dt, mu))
        x_new, P = rn.ekf_predict(x, P, dt, n, nav, r_t, dv, dv_var, dv_at)
        rel_new = rn.relative_state(tgt, y[:6])
        d0, d1 = float(rel[:3] @ axis), float(rel_new[:3] @ axis)
        if d0 > 0.0 >= d1:                              # contact inside the step: interpolate
            f = d0 / (d0 - d1)
            rel, x, t = rel + f * (rel_new - rel), x + f * (x_new - x), t + f * dt
            outcome = _contact(rel, axis, rel_att_deg, plan, next_event, planned)
            events.append(ProximityEvent("capture" if outcome[0] else "contact", t, 0.0))
            break
        t, rel, x = t + dt, rel_new, x_new
        z = rn.measure(rel, sensor, biases, rng)
        if z is not None:
            x, P, _ = rn.ekf_update(x, P, z, sensor)
        if t > t_end:
            outcome = (False, f"no contact {t_end - t_contact:.0f} s after the planned contact", None)
    success, reason, contact = outcome
    series.append((t, rel, x, 3.0 * np.sqrt(np.diag(P))))
    ts, true, est, sig = (np.array(c) for c in zip(*series))
    rng_m = np.linalg.norm(true[:, :3], axis=1)
    res = ProximityResult(ts, true, est, sig, rng_m,
                          np.einsum("ij,ij->i", true[:, :3], true[:, 3:]) / np.maximum(rng_m, 1e-9),
                          events, success, reason, delta_v_m_s=dv_total,
                          propellant_kg=chaser.mass - float(y[6]), pulses=count,
                          figures={"predicted_lateral_sigma_m": sigma_lat, "mean_motion_rad_s": n,
                                   "planned_contact_s": t_contact})
    if contact is not None:
        res.capture_speed_m_s, res.capture_lateral_m, res.capture_attitude_deg = contact
    return res


def _contact(rel: np.ndarray, axis: np.ndarray, rel_att_deg: float, plan: ProximityPlan,
             next_event: int, planned: list) -> tuple[bool, str | None, tuple]:
    """(success, failure reason, (closing speed, lateral offset, relative attitude)) at contact."""
    cap = plan.capture
    speed = -float(rel[3:] @ axis)
    lateral = float(np.linalg.norm(rel[:3] - (rel[:3] @ axis) * axis))
    figures = (speed, lateral, rel_att_deg)
    if next_event < len(planned):
        return False, f"crossed the capture plane before {planned[next_event][0]}", figures
    if not cap.closing_speed_min_m_s <= speed <= cap.closing_speed_max_m_s:
        return False, (f"closing speed {speed:.3f} m/s outside [{cap.closing_speed_min_m_s}, "
                       f"{cap.closing_speed_max_m_s}] m/s"), figures
    if lateral > cap.lateral_offset_max_m:
        return False, f"lateral offset {lateral:.3f} m above {cap.lateral_offset_max_m} m", figures
    if rel_att_deg > cap.relative_attitude_max_deg:
        return False, (f"relative attitude {rel_att_deg:.2f} deg above "
                       f"{cap.relative_attitude_max_deg} deg"), figures
    return True, None, figures
