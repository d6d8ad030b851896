"""Burn execution errors: thrust magnitude, pointing and the accelerometer, from seeded generators.

Errors (1σ thrust %, pointing ° per axis) are drawn from ONE ``numpy.random.Generator`` seeded with
``ExecutionErrors.seed`` in a fixed order of burns (three standard normals each), so a burn's
errors do not depend on what the others did; the accelerometer's scale-factor and bias errors
(two more normals per burn) come from a second generator seeded ``[seed, 1]``, so adding them
leaves the first three draws as they were.

A fixed-attitude burn (:func:`dispersed`) is cut off by a timer (its duration kept: a thrust error
becomes a Δv error) or, with ``cutoff = "accelerometer"``, when the Δv sensed along the thrust
reaches the planned ideal Δv: the thrust error then only changes the duration, and what is left is
the accelerometer's own error, (1 + k) Δv_true(t) + b t = Δv_planned with scale factor k and bias b
(Titterton & Weston, *Strapdown Inertial Navigation Technology*, 2nd ed. 2004, §4.2: accelerometer
scale-factor and bias errors), and the pointing error. A velocity-tracking burn (TEI-1) has an
accelerometer cut-off and its pointing error is a tilt fixed in the velocity frame
(:func:`tracked_tilt`).

Assumptions and limitations
    Errors are constant over a burn (no noise within it); the tracked burn's accelerometer is
    perfect; constant thrust and mass flow over a burn (the true Δv is the rocket equation's).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

import numpy as np
from pydantic import Field
from scipy.optimize import brentq

from guanghan.config_model import ConfigModel
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.local_frames import vnb_axes
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment.constants import STANDARD_GRAVITY as G0


class ExecutionErrors(ConfigModel):
    """1-σ burn execution errors and the seed of the one generator that draws them."""

    thrust_sigma_pct: float = Field(default=0.0, ge=0, le=20)
    pointing_sigma_deg: float = Field(default=0.0, ge=0, le=10)
    seed: int = Field(default=0, ge=0)
    cutoff: Literal["timer", "accelerometer"] = Field(default="timer", description=(
        "how a fixed-attitude burn ends: timer (the planned duration) or accelerometer (the sensed "
        "Δv reaches the planned ideal Δv)"))
    accelerometer_scale_sigma_ppm: float = Field(default=0.0, ge=0, le=10_000, description=(
        "1σ scale-factor error of the accelerometer along the thrust (ppm)"))
    accelerometer_bias_sigma_ug: float = Field(default=0.0, ge=0, le=10_000, description=(
        "1σ bias of the accelerometer along the thrust (µg, 1 µg = 9.80665e-6 m/s²)"))


_SIDE_ISP_S = 1e12     # s: the massless side part of a tilted prograde burn (see tracked_tilt)


_SIDE_SEGMENTS = 12    # inertial pieces approximating the rotating side thrust of TEI-1


def error_draws(errors: ExecutionErrors, burns: list[str]) -> dict[str, np.ndarray]:
    """Standard-normal draws (thrust, pointing axis 1, axis 2) per burn, from ONE generator seeded
    with ``errors.seed``, in the order of ``burns`` (the return draws TEI-1, TEI-2, MCC-1..n,
    orbiter divert, whether or not a burn is flown), so a burn's errors do not depend on what the
    others did."""
    z = np.random.default_rng(errors.seed).standard_normal((len(burns), 3))
    accel = np.random.default_rng([errors.seed, 1]).standard_normal((len(burns), 2))
    return dict(zip(burns, np.hstack([z, accel]), strict=True))


def _error_sizes(errors: ExecutionErrors, z: np.ndarray) -> tuple[float, np.ndarray]:
    """(thrust factor, tilt angles (rad) about two axes normal to the thrust) from draws ``z``."""
    return 1.0 + z[0] * errors.thrust_sigma_pct / 100.0, z[1:3] * math.radians(errors.pointing_sigma_deg)


def accelerometer_cutoff_s(planned: FiniteBurn, mass_kg: float, factor: float, scale: float,
                           bias_m_s2: float) -> float:
    """Duration (s) after which the sensed Δv, (1 + ``scale``) Δv_true(t) + ``bias_m_s2`` t, reaches
    the planned burn's ideal Δv, the engine delivering ``factor`` × its thrust and mass flow (Isp
    unchanged) from ``mass_kg``; Δv_true(t) = Isp g0 ln(m0 / (m0 − factor ṁ t)) (Curtis eq. 11.30)."""
    c = planned.isp_s * G0
    flow = planned.thrust_n / c
    target = c * math.log(mass_kg / (mass_kg - flow * planned.duration_s))
    if scale == 0.0 and bias_m_s2 == 0.0:
        return planned.duration_s / factor

    def sensed_minus_target(t):
        return (1.0 + scale) * c * math.log(mass_kg / (mass_kg - factor * flow * t)) + bias_m_s2 * t - target

    t_max = 0.999 * mass_kg / (factor * flow)          # the whole mass burnt: an upper bound
    return float(brentq(sensed_minus_target, 0.0, t_max, xtol=1e-6))


def _tilted(u: np.ndarray, tilt: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unit vector ``u`` turned by the small-angle vector ``tilt`` (rad) towards axes a, b (⊥ u)."""
    angle = float(np.hypot(*tilt))
    if angle == 0.0:
        return u
    return math.cos(angle) * u + math.sin(angle) * (tilt[0] * a + tilt[1] * b) / angle


def dispersed(burn: FiniteBurn, errors: ExecutionErrors, z: np.ndarray,
              mass_kg: float | None = None) -> FiniteBurn:
    """An inertial ``burn`` with thrust-magnitude and pointing errors from draws ``z``; with the
    timer cut-off the duration is kept, with the accelerometer cut-off (``mass_kg`` at ignition
    needed) it ends when the sensed Δv reaches the planned one (:func:`accelerometer_cutoff_s`)."""
    factor, tilt = _error_sizes(errors, z)
    u = np.asarray(burn.vector_j2000, float)
    a = np.cross(u, [0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.cross(u, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    duration = burn.duration_s
    if errors.cutoff == "accelerometer":
        if mass_kg is None:
            raise ValueError("an accelerometer cut-off needs the mass at ignition")
        scale = z[3] * errors.accelerometer_scale_sigma_ppm * 1e-6
        bias = z[4] * errors.accelerometer_bias_sigma_ug * 1e-6 * G0
        duration = accelerometer_cutoff_s(burn, mass_kg, factor, scale, bias)
    return replace(burn, thrust_n=burn.thrust_n * factor, duration_s=duration,
                   vector_j2000=tuple(_tilted(u, tilt, a, np.cross(u, a))))


def tracked_tilt(planned: FiniteBurn, errors: ExecutionErrors, z: np.ndarray,
                 planned_trajectory: Trajectory) -> list[FiniteBurn]:
    """A velocity-tracking (prograde) burn with thrust error, accelerometer cut-off and a pointing
    error FIXED IN THE VELOCITY FRAME (tilts towards the binormal and the orbit normal).

    The thrust F is split into a prograde part F cos t, flown with Isp cos t so that it carries the
    whole mass flow F/(Isp g0), and a side part F sin t along the tilt, massless (Isp 1e12 s), as
    ``_SIDE_SEGMENTS`` inertial pieces each along the side direction of ``planned_trajectory`` at
    the piece's middle (the side direction turns with the orbit, ~5° per piece for TEI-1)."""
    factor, tilt = _error_sizes(errors, z)
    angle = float(np.hypot(*tilt))
    thrust = planned.thrust_n * factor
    duration = planned.duration_s / factor            # ideal Δv reaches the planned one
    main = replace(planned, thrust_n=thrust * math.cos(angle), isp_s=planned.isp_s * math.cos(angle),
                   duration_s=duration)
    if angle == 0.0:
        return [main]
    step = duration / _SIDE_SEGMENTS
    mids = planned.start_et + step * (np.arange(_SIDE_SEGMENTS) + 0.5)
    ys = planned_trajectory.states(np.minimum(mids, planned.end_et))
    side = []
    for k, y in enumerate(ys):
        axes = vnb_axes(y[:3], y[3:6])          # rows V, N, B
        u = (tilt[0] * axes[2] + tilt[1] * axes[1]) / angle
        side.append(FiniteBurn(planned.start_et + k * step, step, thrust * math.sin(angle), _SIDE_ISP_S,
                               "inertial", tuple(u)))
    return [main, *side]
