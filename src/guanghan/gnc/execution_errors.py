"""Burn execution errors: thrust magnitude and pointing, drawn from one seeded generator.

Errors (1σ thrust %, pointing ° per axis) are drawn from ONE ``numpy.random.Generator`` seeded with
``ExecutionErrors.seed`` in a fixed order of burns (three standard normals each), so a burn's
errors do not depend on what the others did. A fixed-attitude burn with a timer cut-off keeps its
duration (:func:`dispersed`); a velocity-tracking burn with an accelerometer cut-off reaches its
planned ideal Δv, its pointing error a tilt fixed in the velocity frame (:func:`tracked_tilt`).

Assumptions and limitations
    Errors are constant over a burn (no noise within it); the accelerometer of the tracked burn is
    perfect.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.local_frames import vnb_axes
from guanghan.dynamics.trajectory import Trajectory


class ExecutionErrors(ConfigModel):
    """1-σ burn execution errors and the seed of the one generator that draws them."""

    thrust_sigma_pct: float = Field(default=0.0, ge=0, le=20)
    pointing_sigma_deg: float = Field(default=0.0, ge=0, le=10)
    seed: int = Field(default=0, ge=0)


_SIDE_ISP_S = 1e12     # s: the massless side part of a tilted prograde burn (see tracked_tilt)


_SIDE_SEGMENTS = 12    # inertial pieces approximating the rotating side thrust of TEI-1


def error_draws(errors: ExecutionErrors, burns: list[str]) -> dict[str, np.ndarray]:
    """Standard-normal draws (thrust, pointing axis 1, axis 2) per burn, from ONE generator seeded
    with ``errors.seed``, in the order of ``burns`` (the return draws TEI-1, TEI-2, MCC-1..n,
    orbiter divert, whether or not a burn is flown), so a burn's errors do not depend on what the
    others did."""
    z = np.random.default_rng(errors.seed).standard_normal((len(burns), 3))
    return dict(zip(burns, z))


def _error_sizes(errors: ExecutionErrors, z: np.ndarray) -> tuple[float, np.ndarray]:
    """(thrust factor, tilt angles (rad) about two axes normal to the thrust) from draws ``z``."""
    return 1.0 + z[0] * errors.thrust_sigma_pct / 100.0, z[1:] * math.radians(errors.pointing_sigma_deg)


def _tilted(u: np.ndarray, tilt: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unit vector ``u`` turned by the small-angle vector ``tilt`` (rad) towards axes a, b (⊥ u)."""
    angle = float(np.hypot(*tilt))
    if angle == 0.0:
        return u
    return math.cos(angle) * u + math.sin(angle) * (tilt[0] * a + tilt[1] * b) / angle


def dispersed(burn: FiniteBurn, errors: ExecutionErrors, z: np.ndarray) -> FiniteBurn:
    """An inertial ``burn`` with thrust-magnitude and pointing errors from draws ``z`` (timer
    cut-off: the duration is kept)."""
    factor, tilt = _error_sizes(errors, z)
    u = np.asarray(burn.vector_j2000, float)
    a = np.cross(u, [0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.cross(u, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    return replace(burn, thrust_n=burn.thrust_n * factor,
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
